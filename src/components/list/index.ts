// The sidebar's list of sessions, grouped by notebook (`SessionList`), and its parts: the groups
// and their rows (`Group`), how the groups are laid out from the store (`layout`), the view state
// kept across reloads (`viewState`), the Track form and the empty state.
export * from './SessionList';
export * from './Group';
export * from './layout';
export * from './viewState';
export * from './TrackForm';
export * from './EmptyState';

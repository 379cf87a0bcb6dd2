/**
 * What the sidebar, the status bar and the notifications say about sessions, as pure functions
 * of the server's views and the time: whether a session is open (`state`), how sessions are
 * grouped and filtered (`grouping`), the countdowns that matter (`countdowns`), words for modes,
 * counts and end reasons (`words`), and what Close and Cancel would do (`actions`). No DOM and no
 * network, so every rule is unit-tested.
 */
export * from './state';
export * from './grouping';
export * from './countdowns';
export * from './words';
export * from './actions';

// What the sidebar's buttons do: `SessionActions` (close, cancel, budgets, the rate, receipts,
// each confirmed with what it will do) and the dialogs' forms (`forms`).
export * from './forms';
export * from './sessionActions';

// A session's row in the sidebar (`SessionRow`) and its parts: the status badge and outcome
// (`Summary`), the Close and Cancel buttons (`Buttons`), the job table and its status filter
// (`JobTable`, `StatusFilter`), the details (`Details`) and the state timeline (`Timeline`).
export * from './SessionRow';
export * from './Summary';
export * from './Buttons';
export * from './JobTable';
export * from './StatusFilter';
export * from './Details';
export * from './Timeline';

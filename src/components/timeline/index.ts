// A session drawn on a time axis: the model of what to draw from a view and its timeline
// (`model`), the drawing (`draw`) and the component (`TimelinePicture`).
export * from './model';
export * from './draw';
export * from './TimelinePicture';

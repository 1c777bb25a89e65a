export { Dialog } from './dialog';
export type { DialogInit, DialogJSON } from './dialog';

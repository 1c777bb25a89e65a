export { Dialog } from './dialog';
export type { DialogAddresses, DialogInit, DialogJSON } from './dialog';

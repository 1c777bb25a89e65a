/**
 * The SIP stack's public surface (CONTRACT.md): message → transport → transaction → dialog, plus the
 * ports (Clock, Random, SipLogger) and the errors. Upper layers import only from here.
 */
export * from './auth/digest';
export * from './dialog';
export * from './errors';
export * from './message';
export * from './ports';
export * from './transaction';
export * from './transport';
export * from './auth/digest-client';
export * from './client';

export { SipError } from './sip-error';
export { SipParseError } from './sip-parse-error';

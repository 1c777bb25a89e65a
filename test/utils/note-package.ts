/**
 * A small publishable test event package that is not `presence`: documents are `text/plain` notes, the JSON
 * form is `{text}`, and the JSON state lists the live notes, newest first. It shows what REST and the browser
 * WebSocket do for any registered package.
 */
import { PackageError, type EventPackage, type JsonInput, type PresentityState } from '../../src/pa/core/event-package';

export const NOTE_TYPE = 'text/plain';

export interface NoteJson {
  readonly notes: readonly { readonly text: string; readonly etag: string }[];
}

export function notePackage(name = 'note'): EventPackage {
  const live = (state: PresentityState) =>
    state.publications.filter((p) => p.expiresAt > state.now).sort((a, b) => b.modifiedAt - a.modifiedAt);
  return {
    name,
    notifyContentTypes: [NOTE_TYPE],
    subscribeExpires: { default: 600, min: 60, max: 3600 },
    followsRegistrations: false,
    publish: {
      contentTypes: [NOTE_TYPE],
      expires: { default: 600, min: 60, max: 3600 },
      maxBodySize: 1024,
      validate(_contentType: string, body: string) {
        if (body.includes('\n')) throw new PackageError(400, 'a note is one line');
      },
      json: {
        fields: ['text'],
        fromJson(_presentity: string, input: JsonInput) {
          if (typeof input.text !== 'string' || input.text === '') {
            throw new PackageError(400, 'text is required: a non-empty string');
          }
          return { contentType: NOTE_TYPE, body: input.text };
        },
      },
    },
    render: (state) => ({
      contentType: NOTE_TYPE,
      body: live(state)
        .map((p) => p.body)
        .join('\n'),
    }),
    toJson: (state): NoteJson => ({ notes: live(state).map((p) => ({ text: p.body, etag: p.etag })) }),
  };
}

// Spoken commands through the Web Speech API where the browser has it
// (SpeechRecognition, webkit-prefixed in Chromium). One utterance per click;
// the recognised text goes into the command box for the person to check, it
// never runs by itself. Failures come back as messages, never exceptions.
interface RecognitionLike {
  lang: string;
  interimResults: boolean;
  maxAlternatives: number;
  continuous: boolean;
  onresult: ((e: { resultIndex: number; results: ArrayLike<ArrayLike<{ transcript: string }> & { isFinal: boolean }> }) => void) | null;
  onerror: ((e: { error: string; message?: string }) => void) | null;
  onend: (() => void) | null;
  start(): void;
  abort(): void;
}
type RecognitionCtor = new () => RecognitionLike;

function ctor(): RecognitionCtor | null {
  const w = globalThis as unknown as { SpeechRecognition?: RecognitionCtor; webkitSpeechRecognition?: RecognitionCtor };
  return w.SpeechRecognition ?? w.webkitSpeechRecognition ?? null;
}

export const speechAvailable = (): boolean => ctor() !== null;

const WHY: Record<string, string> = {
  'not-allowed': 'the microphone was not allowed (browser permission)',
  'service-not-allowed': 'this browser does not allow its speech service here',
  'no-speech': 'no speech was heard',
  'audio-capture': 'no microphone was found',
  network: 'the speech service could not be reached (network)',
  aborted: 'listening was stopped',
  'language-not-supported': 'English speech recognition is not available here',
};

export type Heard = { ok: true; text: string } | { ok: false; error: string };

/** Listens for one utterance; `interim` sees partial text as it is recognised. */
export function listenOnce(interim: (text: string) => void, lang = 'en-US'): { result: Promise<Heard>; stop: () => void } {
  const C = ctor();
  if (!C) return { result: Promise.resolve({ ok: false, error: 'speech input is not available in this browser (no Web Speech API)' }), stop: () => {} };
  let rec: RecognitionLike;
  try {
    rec = new C();
  } catch (e) {
    return { result: Promise.resolve({ ok: false, error: `speech input could not start: ${(e as Error).message}` }), stop: () => {} };
  }
  const result = new Promise<Heard>((resolve) => {
    let text = '';
    let settled = false;
    const done = (h: Heard) => { if (!settled) { settled = true; resolve(h); } };
    Object.assign(rec, { lang, interimResults: true, maxAlternatives: 1, continuous: false });
    rec.onresult = (e) => {
      let all = '';
      for (let i = 0; i < e.results.length; i++) all += e.results[i][0]?.transcript ?? '';
      text = all.trim();
      interim(text);
      const last = e.results[e.results.length - 1];
      if (last?.isFinal) done(text ? { ok: true, text } : { ok: false, error: WHY['no-speech'] });
    };
    rec.onerror = (e) => done({ ok: false, error: `speech input failed: ${WHY[e.error] ?? e.message ?? e.error}` });
    rec.onend = () => done(text ? { ok: true, text } : { ok: false, error: `speech input failed: ${WHY['no-speech']}` });
    try {
      rec.start();
    } catch (e) {
      done({ ok: false, error: `speech input could not start: ${(e as Error).message}` });
    }
  });
  return { result, stop: () => { try { rec.abort(); } catch { /* already ended */ } } };
}

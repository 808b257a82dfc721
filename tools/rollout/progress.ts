// The live progress display on stderr: in a terminal, a frame redrawn in place (cursor up +
// clear to end of screen, at most every 100 ms and on every transition); otherwise plain lines,
// one per status change (logs, CI). Rendering is in render.ts; this file only decides when and how
// to write.
import { StepInfo } from './executor';
import { progressFrame, StatusView, transitionLines } from './render';
import { RolloutState } from './state';

/** The display's view of the outside: a writer and whether it is a terminal. */
export interface ProgressSink { write(text: string): void; isTTY: boolean }

/** A progress display fed by the runner's callbacks. */
export interface Progress {
  onChange(s: RolloutState): void;
  onStep(tenantId: string, step: StepInfo): void;
  /** Draws the last frame (terminal) and stops redrawing. */
  close(): void;
}

/**
 * Creates the display for `sink`. `from`: the state the run starts from (a resume), whose
 * statuses are not reported again as changes.
 */
export function createProgress(sink: ProgressSink, view: StatusView = {}, from?: RolloutState, now: () => number = Date.now): Progress {
  let last: RolloutState | undefined = from;
  let drawn = 0;
  let lastDraw = 0;
  const steps: Record<string, string> = {};
  const draw = (force: boolean) => {
    if (!last || !sink.isTTY) return;
    if (!force && now() - lastDraw < 100) return;
    const frame = progressFrame(last, steps, view);
    sink.write(`${drawn ? `\x1b[${drawn}F\x1b[J` : ''}${frame}`);
    drawn = frame.split('\n').length - 1;
    lastDraw = now();
  };
  return {
    onChange(s) {
      if (!sink.isTTY) for (const l of transitionLines(last, s)) sink.write(`[rollout ${s.name}] ${l}\n`);
      for (const t of s.tenants) if (t.status !== 'running') delete steps[t.id];
      last = s;
      draw(true);
    },
    onStep(id, step) {
      steps[id] = `${step.file} statement ${step.statement}/${step.statements}`;
      draw(false);
    },
    close() { draw(true); },
  };
}

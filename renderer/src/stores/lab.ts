import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type {
  LabAction,
  LabMessageView,
  LabStepUntil,
  LabView,
  NodeId,
} from '../../../main/contract/view';
import { LAB_MAX_DELAY_MS, LAB_SPEEDS } from '../../../main/contract/view';
import { downloadJson } from '../lib/download';
import { useClusterStore } from './cluster';
import { useConnectionStore } from './connection';
import { useTimeTravelStore } from './time-travel';
import { useToastStore } from './toasts';

/** DEFAULT_DELAY_MS: how much longer "Delay" holds a message unless the person says otherwise. */
export const DEFAULT_DELAY_MS = 500;

/** LAB_KEYS: the lab's keys and the step each asks for (space plays or pauses). */
export const LAB_KEYS: Readonly<Record<string, LabStepUntil>> = {
  '.': 'message',
  n: 'message',
  t: 'tick',
  e: 'event',
};

/** scheduleFileName: the name an exported schedule is saved under. */
export const scheduleFileName = (seed: number): string => `raftdeck-lab-seed-${seed}.json`;

/**
 * CRASH_TITLE: what each crash keeps of a node's unsynced writes, in words (the buttons' titles).
 */
export const CRASH_TITLE: Record<'kept' | 'lost', string> = {
  kept: 'The process dies but the machine keeps running: what it wrote without fsync survives in the page cache and is there when it restarts',
  lost: 'The machine loses power: everything the node wrote since its last fsync is gone when it restarts',
};

/**
 * typesIntoField: whether a key went to something that uses it itself: a form field, editable
 * text, or a control that a space or letter activates (a button, a link, a message on the
 * drawing, a select).
 */
function typesIntoField(el: EventTarget | null): boolean {
  if (!(el instanceof Element)) return false;
  if (el instanceof HTMLElement && el.isContentEditable) return true;
  return el.closest('input, textarea, select, button, a[href], [role=button]') !== null;
}

/**
 * useLabStore: a lab cluster's controls. The lab's state is the view's (`view.lab`, null on a
 * real cluster); each control is one labControl call, whose summary (for the actions on a
 * message, a node or the timers) or error becomes a toast. It also holds the message in flight
 * that is selected (on the drawing and in the list, the same one), the delay the Delay buttons
 * add, and when the lab's latest state arrived, from which the drawing moves its messages on by
 * `speed` virtual ms per real ms while the lab plays (Date.now(), so tests can hold the clock).
 */
export const useLabStore = defineStore('lab', () => {
  const conn = useConnectionStore();
  const cluster = useClusterStore();
  const toasts = useToastStore();
  const tt = useTimeTravelStore();

  const lab = computed<LabView | null>(() => cluster.view?.lab ?? null);
  const present = computed(() => lab.value !== null);
  const inFlight = computed<LabMessageView[]>(() => lab.value?.inFlight ?? []);
  const selectedId = ref<number | null>(null);
  /** selected: the selected message while it is still in flight (null once it has gone). */
  const selected = computed(() => inFlight.value.find((m) => m.id === selectedId.value) ?? null);
  const delayMs = ref(DEFAULT_DELAY_MS);
  /**
   * motionRate: how fast what moves on its own (messages in flight, timer arcs) advances, in the
   * view's ms per real ms: the lab's speed while it plays, 0 while it is paused, times the
   * replay's own rate while a recorded moment is shown; without a lab, the replay's rate alone.
   */
  const motionRate = computed(() => {
    const l = lab.value;
    return (l ? (l.playing ? l.speed : 0) : 1) * tt.motionRate;
  });
  /** arrivedAt: Date.now() when the lab's state shown arrived. */
  const arrivedAt = ref(Date.now());

  watch(lab, () => {
    arrivedAt.value = Date.now();
  });

  /** control sends one action; `announce` shows its summary as a toast. */
  async function control(action: LabAction, announce = false): Promise<string | undefined> {
    const r = await conn.run('labControl', action);
    if (r && announce) toasts.info(r.summary);
    return r?.summary;
  }

  const play = () => control({ kind: 'play' });
  const pause = () => control({ kind: 'pause' });
  const toggle = () => (lab.value?.playing ? pause() : play());
  const step = (until: LabStepUntil) => control({ kind: 'step', until });

  async function setSpeed(speed: number): Promise<void> {
    if (!LAB_SPEEDS.includes(speed)) {
      toasts.error(`Speed ${speed}× is not one of ${LAB_SPEEDS.join(', ')}`);
      return;
    }
    await control({ kind: 'speed', speed });
  }

  const drop = (id: number) => control({ kind: 'drop', id }, true);
  const duplicate = (id: number) => control({ kind: 'duplicate', id }, true);

  /** delay holds message `id` longer by `ms` (default: delayMs), 1..LAB_MAX_DELAY_MS. */
  async function delay(id: number, ms: number = delayMs.value): Promise<void> {
    if (!Number.isInteger(ms) || ms < 1 || ms > LAB_MAX_DELAY_MS) {
      toasts.error(`A delay is a whole number of ms from 1 to ${LAB_MAX_DELAY_MS} (got ${ms})`);
      return;
    }
    await control({ kind: 'delay', id, ms }, true);
  }

  const crash = (node: NodeId, unsynced: 'kept' | 'lost') =>
    control({ kind: 'crash', node, unsynced }, true);
  const timers = (how: 'align' | 'spread') => control({ kind: 'timers', how }, true);

  /** select selects a message in flight (selecting it again clears the selection). */
  function select(id: number | null): void {
    selectedId.value = id === selectedId.value ? null : id;
  }

  /** exportSchedule saves the run so far as raftdeck-lab-seed-N.json. */
  async function exportSchedule(): Promise<void> {
    const l = lab.value;
    if (!l) return;
    const r = await conn.run('exportLabSchedule');
    if (!r) return;
    downloadJson(scheduleFileName(l.seed), r.json);
    toasts.success(`Saved the schedule as ${scheduleFileName(l.seed)}`);
  }

  /**
   * onKey: space plays or pauses, '.' or 'n' steps to the next message, 't' to the next tick,
   * 'e' to the next event; only with a lab, without modifiers, and not while the key goes to a
   * field or control that uses it. While changes are refused (a recorded moment is shown) it says
   * why instead. Returns whether it took the key.
   */
  function onKey(e: KeyboardEvent): boolean {
    if (!present.value || e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return false;
    const until = LAB_KEYS[e.key];
    if (e.key !== ' ' && until === undefined) return false;
    if (typesIntoField(e.target)) return false;
    e.preventDefault();
    if (conn.refusal !== null) {
      toasts.info(conn.refusal);
      return true;
    }
    if (until) void step(until);
    else void toggle();
    return true;
  }

  return {
    lab,
    present,
    inFlight,
    selectedId,
    selected,
    delayMs,
    arrivedAt,
    motionRate,
    speeds: LAB_SPEEDS,
    control,
    play,
    pause,
    toggle,
    step,
    setSpeed,
    drop,
    duplicate,
    delay,
    crash,
    timers,
    select,
    exportSchedule,
    onKey,
  };
});

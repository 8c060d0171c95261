/**
 * changes-directive: `v-changes` marks a control that changes the cluster (its action ends in a
 * call that changesCluster). While the connection store refuses such calls (a recorded moment
 * is shown, or a recording opened from a file) the control is disabled, its title says why and
 * it carries `data-refused`; when they are allowed again it gets back the disabled state and
 * title its component gave it. Its value, when given, names the engine feature the control
 * needs (`v-changes="'kill'"`, or a list of which any will do): on an engine that cannot do it
 * the control is disabled the same way, its title "Unavailable on etcd: <reason>", and it
 * carries `data-unavailable`. `v-feature` does the engine part alone, for controls that only
 * read (node logs, link details). Both work on buttons, inputs, selects, fieldsets and on
 * components whose root is one of them (ActionButton).
 *
 * Ordering: the component's own bindings are patched first (beforeUpdate puts back what the
 * component set, so the patch starts from it), and the directive applies the refusal after every
 * patch (updated), so a control never shows enabled while calls are refused. An engine that
 * cannot do the feature comes before a refusal to change (it would hold live as well).
 */
import { shallowRef, watchEffect } from 'vue';
import type { Directive, ShallowRef, WatchStopHandle } from 'vue';
import { useClusterStore } from '../stores/cluster';
import { useConnectionStore } from '../stores/connection';
import { featureReason } from './engine';
import type { Features } from './engine';

/** Refusal: the title a refused control shows, and the attribute that marks it. */
interface Refusal {
  title: string;
  mark: 'data-refused' | 'data-unavailable';
}

interface Held {
  stop: WatchStopHandle;
  /** own: the disabled state and title the component gave the element (while refused). */
  own: { disabled: boolean; title: string } | null;
  refusal: Refusal | null;
  features: ShallowRef<Features | undefined>;
  refusalOf: RefusalOf;
}

type RefusalOf = (features: Features | undefined) => Refusal | null;

type Control = HTMLElement & { disabled?: boolean };

const MARKS = ['data-refused', 'data-unavailable'] as const;

const held = new WeakMap<Control, Held>();

function apply(el: Control, h: Held): void {
  const r = h.refusal;
  if (r !== null) {
    if (h.own === null) h.own = { disabled: el.disabled === true, title: el.title };
    el.disabled = true;
    el.title = r.title;
    for (const m of MARKS) {
      if (m === r.mark) el.setAttribute(m, '');
      else el.removeAttribute(m);
    }
  } else if (h.own !== null) {
    el.disabled = h.own.disabled;
    el.title = h.own.title;
    for (const m of MARKS) el.removeAttribute(m);
    h.own = null;
  }
}

function restore(el: Control, h: Held): void {
  if (h.own === null) return;
  el.disabled = h.own.disabled;
  el.title = h.own.title;
  h.own = null;
}

/** refusing: a directive that disables its control while `refusalOf` (built when mounted) says so. */
function refusing(make: () => RefusalOf): Directive<Control, Features | undefined> {
  return {
    mounted(el, binding) {
      const refusalOf = make();
      const h: Held = {
        stop: () => {},
        own: null,
        refusal: null,
        features: shallowRef(binding.value),
        refusalOf,
      };
      held.set(el, h);
      h.stop = watchEffect(() => {
        h.refusal = refusalOf(h.features.value);
        apply(el, h);
      });
    },
    beforeUpdate(el) {
      const h = held.get(el);
      if (h) restore(el, h);
    },
    updated(el, binding) {
      const h = held.get(el);
      if (!h) return;
      // A control reused for another feature (a list re-rendered) takes the new one at once.
      h.features.value = binding.value;
      h.refusal = h.refusalOf(binding.value);
      apply(el, h);
    },
    unmounted(el) {
      held.get(el)?.stop();
      held.delete(el);
    },
  };
}

/** engineRefusal: the refusal of an engine that cannot do `features`, or null. */
function engineRefusal(): RefusalOf {
  const cluster = useClusterStore();
  return (features) => {
    const why = featureReason(cluster.view, features);
    return why === null ? null : { title: why, mark: 'data-unavailable' };
  };
}

export const vChanges = refusing(() => {
  const conn = useConnectionStore();
  const engine = engineRefusal();
  return (features) =>
    engine(features) ??
    (conn.refusal !== null ? { title: conn.refusal, mark: 'data-refused' } : null);
});

export const vFeature = refusing(engineRefusal);

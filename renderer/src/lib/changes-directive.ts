/**
 * changes-directive: `v-changes` marks a control that changes the cluster (its action ends in a
 * call that changesCluster). While the connection store refuses such calls (a recorded moment
 * is shown, or a recording opened from a file) the control is disabled, its title says why and
 * it carries `data-refused`; when they are allowed again it gets back the disabled state and
 * title its component gave it. It works on buttons, inputs, selects, fieldsets and on components
 * whose root is one of them (ActionButton).
 *
 * Ordering: the component's own bindings are patched first (beforeUpdate puts back what the
 * component set, so the patch starts from it), and the directive applies the refusal after every
 * patch (updated), so a control never shows enabled while calls are refused.
 */
import { watchEffect } from 'vue';
import type { Directive, WatchStopHandle } from 'vue';
import { useConnectionStore } from '../stores/connection';

interface Held {
  stop: WatchStopHandle;
  /** own: the disabled state and title the component gave the element (while refused). */
  own: { disabled: boolean; title: string } | null;
  reason: string | null;
}

type Control = HTMLElement & { disabled?: boolean };

const held = new WeakMap<Control, Held>();

function apply(el: Control, h: Held): void {
  if (h.reason !== null) {
    if (h.own === null) h.own = { disabled: el.disabled === true, title: el.title };
    el.disabled = true;
    el.title = h.reason;
    el.setAttribute('data-refused', '');
  } else if (h.own !== null) {
    el.disabled = h.own.disabled;
    el.title = h.own.title;
    el.removeAttribute('data-refused');
    h.own = null;
  }
}

function restore(el: Control, h: Held): void {
  if (h.own === null) return;
  el.disabled = h.own.disabled;
  el.title = h.own.title;
  h.own = null;
}

export const vChanges: Directive<Control, string | undefined> = {
  mounted(el) {
    const conn = useConnectionStore();
    const h: Held = { stop: () => {}, own: null, reason: null };
    held.set(el, h);
    h.stop = watchEffect(() => {
      h.reason = conn.refusal;
      apply(el, h);
    });
  },
  beforeUpdate(el) {
    const h = held.get(el);
    if (h) restore(el, h);
  },
  updated(el) {
    const h = held.get(el);
    if (h) apply(el, h);
  },
  unmounted(el) {
    held.get(el)?.stop();
    held.delete(el);
  },
};

import { defineStore } from 'pinia';
import { ref } from 'vue';

const CONFIRM_KEY = 'raftdeck.confirm';

function storedSetting(): boolean {
  try {
    return localStorage.getItem(CONFIRM_KEY) !== 'off';
  } catch {
    return true;
  }
}

/** Question: what the dialog asks, and the word on the button that goes ahead. */
export interface Question {
  text: string;
  action: string;
}

/**
 * useConfirmStore: confirmation before a destructive control (Kill, Remove). `ask` resolves true
 * once the person confirms, false if they cancel; with confirmations turned off (a setting kept
 * in the browser, for scripted demos) it resolves true at once. One question at a time: asking
 * again while one is open cancels the first.
 */
export const useConfirmStore = defineStore('confirm', () => {
  const enabled = ref(storedSetting());
  const open = ref<Question | null>(null);
  let answer: ((ok: boolean) => void) | null = null;

  function ask(q: Question): Promise<boolean> {
    if (!enabled.value) return Promise.resolve(true);
    answer?.(false);
    open.value = q;
    return new Promise((resolve) => {
      answer = resolve;
    });
  }

  function reply(ok: boolean): void {
    const a = answer;
    answer = null;
    open.value = null;
    a?.(ok);
  }

  function setEnabled(on: boolean): void {
    enabled.value = on;
    try {
      localStorage.setItem(CONFIRM_KEY, on ? 'on' : 'off');
    } catch {
      // a browser that refuses storage keeps the setting for this page only
    }
  }

  return { enabled, open, ask, reply, setEnabled };
});

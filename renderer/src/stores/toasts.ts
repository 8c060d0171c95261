import { defineStore } from 'pinia';
import { ref } from 'vue';

export type ToastKind = 'error' | 'info' | 'success';

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

/**
 * useToastStore holds the short messages shown in the corner: every failed call lands here with
 * the error message from main. Errors stay 8 s, others 4 s; any can be dismissed.
 */
export const useToastStore = defineStore('toasts', () => {
  const toasts = ref<Toast[]>([]);
  let nextId = 1;

  function dismiss(id: number): void {
    toasts.value = toasts.value.filter((t) => t.id !== id);
  }

  function push(kind: ToastKind, message: string): number {
    const id = nextId++;
    toasts.value = [...toasts.value.slice(-4), { id, kind, message }];
    setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000);
    return id;
  }

  return {
    toasts,
    dismiss,
    push,
    error: (message: string) => push('error', message),
    info: (message: string) => push('info', message),
    success: (message: string) => push('success', message),
  };
});

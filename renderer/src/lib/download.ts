/** downloadJson saves text as a file through the browser's download (works in Electron too). */
export function downloadJson(filename: string, json: string): void {
  downloadText(filename, json, 'application/json');
}

/** downloadText saves text as a file of the given type (JSON Lines, CSV, …) through the browser. */
export function downloadText(filename: string, text: string, type: string): void {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

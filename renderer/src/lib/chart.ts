/** Series: one line of a LineChart. */
export interface Series {
  name: string;
  color: string;
  points: { t: number; v: number }[];
}

/**
 * cluster-recording: the recording a running cluster keeps: a FileRecording in its folder,
 * bounded by the cluster's record limit (cluster.json, `--record-limit`), whose notes (the
 * oldest segment dropped, recording stopped) become 'storage' events of the cluster. With the
 * limit 0, or when the folder's recording cannot be opened, the run's history is kept in memory
 * only, and an event says which and why.
 */
import type { ClusterEngine } from '../engine';
import { FileRecording } from './file-recording';
import { MemoryRecording } from './memory-recording';
import type { Recording } from './recording';

/** openClusterRecording opens the recording of the started cluster `sup`. */
export function openClusterRecording(sup: ClusterEngine): Recording {
  const limit = sup.recordLimitMiB;
  if (limit === 0) {
    sup.event(
      null,
      'storage',
      'recording: the record limit is 0, so nothing is recorded on disk; this run’s history is kept in memory only',
    );
    return new MemoryRecording();
  }
  try {
    return new FileRecording(sup.dir, {
      clusterId: sup.clusterId,
      limitBytes: limit * (1 << 20),
      onNote: (message) => sup.event(null, 'storage', message),
    });
  } catch (e) {
    sup.event(
      null,
      'storage',
      `recording: could not open the recording in ${sup.dir}: ${(e as Error).message}; this run’s history is kept in memory only`,
    );
    return new MemoryRecording();
  }
}

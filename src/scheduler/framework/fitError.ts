/**
 * Upstream FitError.Error() (v1.37.2 framework/types.go): "0/<N> nodes are available: <PreFilterMsg>. <histogram>. <PostFilterMsg>"
 * — the PostFilter message is appended with " %v", no period added (it carries its own).
 * The histogram counts each reason once per node ("<count> <reason>"), sorted as strings and joined by ", ";
 * it is left out when PreFilter rejected (every node then carries the same status). Nodes without an explicit
 * status (cut off by a PreFilter restriction) count under the absent-nodes status.
 */
import type { Diagnosis } from './types.js';

export function fitErrorMessage(diagnosis: Diagnosis, numAllNodes: number): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (diagnosis.preFilterMsg !== '') {
    msg += ` ${diagnosis.preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const { status } of diagnosis.nodeToStatus.values()) {
      for (const reason of status.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    const absent = numAllNodes - diagnosis.nodeToStatus.size;
    if (absent > 0 && diagnosis.absentNodesStatus) {
      for (const reason of diagnosis.absentNodesStatus.reasons) counts.set(reason, (counts.get(reason) ?? 0) + absent);
    }
    const entries = [...counts].map(([reason, count]) => `${count} ${reason}`);
    // Go's sort.Strings: byte-wise comparison, so "10 ..." sorts before "2 ...".
    entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length > 0) msg += ` ${entries.join(', ')}.`;
  }
  if (diagnosis.postFilterMsg !== '') msg += ` ${diagnosis.postFilterMsg}`;
  return msg;
}

/** Kubernetes event messages are cut at 1024 bytes; upstream appends " ..." when it truncates. */
export function truncateEventMessage(message: string, limit = 1024): string {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= limit) return message;
  const suffix = ' ...';
  let cut = bytes.subarray(0, limit - suffix.length).toString('utf8');
  // Drop a partial multi-byte character that the byte cut may have produced.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut + suffix;
}

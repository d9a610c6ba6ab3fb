/**
 * `promise`'s value when it settles within `ms`; `otherwise` when it is late or rejects. The timer is cleared as soon
 * as either side wins, so a bounded check leaves nothing behind. Used where a caller must answer in time whatever the
 * database does (/readyz, a ROLLBACK on a connection that may be dead).
 */
export function within<T>(promise: Promise<T>, ms: number, otherwise: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(otherwise), ms);
  });
  return Promise.race([promise.catch(() => otherwise), late]).finally(() => clearTimeout(timer));
}

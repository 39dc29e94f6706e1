/**
 * Injected time: the scheduler core reads no clock of its own. The live adapter passes the wall clock (setTimeout),
 * the simulator a virtual clock that jumps to the next timer when nothing else can run, and tests a fake clock they
 * advance by hand. Leader election, Permit timeouts and PreBind waits all take this one interface.
 */
export interface Clock {
  /** Milliseconds since the epoch (or since the simulation started). */
  now(): number;
  /** Resolves after `ms` milliseconds, or early (never rejecting) once `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

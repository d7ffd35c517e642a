/** Time behind an interface so tests of loops and timestamps need not sleep. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

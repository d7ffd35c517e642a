/**
 * The load score of a ZooKeeper server and of the ensemble, pure.
 *
 * The seed's score was a plain average of "normalised" request rate, latency, CPU, memory and disk
 * with the normalisation left implicit. Here it is spelt out: each component is divided by a
 * configured reference value (the figure that counts as fully loaded), clamped to [0, 1], and the
 * score is the weighted mean of the known components times 100:
 *
 *   score = 100 x Σ wᵢ·min(1, max(0, vᵢ / refᵢ)) / Σ wᵢ      over components with a known value and wᵢ > 0
 *
 * A component nobody can measure (CPU of an external server, say) drops out of both sums instead of
 * counting as 0, which would make a server we know less about look idle. With every weight 1 it is
 * the seed's plain average.
 */

export const LOAD_COMPONENTS = ['requests', 'latency', 'cpu', 'memory', 'disk'] as const;
export type LoadComponentKey = (typeof LOAD_COMPONENTS)[number];

/** What each component measures, and in which unit its value and reference are. */
export const LOAD_COMPONENT_INFO: Record<LoadComponentKey, { label: string; unit: string }> = {
  requests: { label: 'requests per second (packets received)', unit: 'req/s' },
  latency: { label: 'average request latency', unit: 'ms' },
  cpu: { label: 'CPU of the server process (100 = one core)', unit: '%' },
  memory: { label: 'resident memory of the server process', unit: 'bytes' },
  disk: { label: 'approximate data size (zk_approximate_data_size)', unit: 'bytes' },
};

export type LoadScoreWeights = Record<LoadComponentKey, number>;
export type LoadScoreReferences = Record<LoadComponentKey, number>;

export interface LoadScoreConfig {
  weights: LoadScoreWeights;
  /** The value of each component that counts as 100 % loaded. */
  references: LoadScoreReferences;
}

/**
 * Defaults: equal weights (the seed's plain average). References sized for a control-plane ensemble:
 * 2,000 req/s per server, 20 ms average latency, one core, 512 MiB resident, 256 MiB of data (the
 * whole data tree lives in every server's heap, so it is the "disk" that matters first).
 */
export const DEFAULT_LOAD_SCORE_CONFIG: LoadScoreConfig = {
  weights: { requests: 1, latency: 1, cpu: 1, memory: 1, disk: 1 },
  references: { requests: 2_000, latency: 20, cpu: 100, memory: 512 * 1024 * 1024, disk: 256 * 1024 * 1024 },
};

export type LoadInputs = Record<LoadComponentKey, number | null>;

export interface LoadComponent {
  key: LoadComponentKey;
  value: number | null;
  reference: number;
  /** value / reference clamped to [0, 1]; null when the value is unknown. */
  normalised: number | null;
  weight: number;
}

export interface LoadScore {
  /** 0-100, one decimal; null when no weighted component is known. */
  score: number | null;
  components: LoadComponent[];
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));
const round1 = (x: number): number => Math.round(x * 10) / 10;

export function computeLoadScore(inputs: LoadInputs, config: LoadScoreConfig = DEFAULT_LOAD_SCORE_CONFIG): LoadScore {
  let sum = 0;
  let weights = 0;
  const components = LOAD_COMPONENTS.map((key): LoadComponent => {
    const value = inputs[key];
    const reference = config.references[key];
    const weight = config.weights[key];
    const normalised = value === null || !Number.isFinite(value) || reference <= 0 ? null : clamp01(value / reference);
    if (normalised !== null && weight > 0) {
      sum += weight * normalised;
      weights += weight;
    }
    return { key, value, reference, normalised: normalised === null ? null : Math.round(normalised * 1000) / 1000, weight };
  });
  return { score: weights > 0 ? round1((100 * sum) / weights) : null, components };
}

export interface EnsembleLoadScore {
  /** Mean of the servers' scores (the known ones): what the scaling policy looks at. */
  score: number | null;
  /** The busiest server's score: one hot server can hide in the mean. */
  max: number | null;
  /** Servers with a known score. */
  scored: number;
}

export function ensembleLoadScore(scores: readonly (number | null)[]): EnsembleLoadScore {
  const known = scores.filter((s): s is number => s !== null && Number.isFinite(s));
  if (known.length === 0) return { score: null, max: null, scored: 0 };
  return { score: round1(known.reduce((a, b) => a + b, 0) / known.length), max: Math.max(...known), scored: known.length };
}

/** The formula in words, with the configured figures, for the UI and the API. */
export function describeLoadFormula(config: LoadScoreConfig = DEFAULT_LOAD_SCORE_CONFIG): string {
  const terms = LOAD_COMPONENTS.filter((k) => config.weights[k] > 0).map(
    (k) => `${config.weights[k]}·min(1, ${k}/${config.references[k]} ${LOAD_COMPONENT_INFO[k].unit})`,
  );
  const total = LOAD_COMPONENTS.reduce((a, k) => a + Math.max(0, config.weights[k]), 0);
  return `score = 100 × (${terms.join(' + ')}) / ${total}, over the components that are known; ensemble = mean of the servers' scores`;
}

/**
 * Parses `requests:1,latency:2,cpu:1` (also `=` instead of `:`) into a partial record: the form of
 * LOAD_SCORE_WEIGHTS and LOAD_SCORE_REFERENCES. Throws an Error naming the bad entry.
 */
export function parseLoadComponentList(raw: string, opts: { min: number; positive?: boolean }): Partial<Record<LoadComponentKey, number>> {
  const out: Partial<Record<LoadComponentKey, number>> = {};
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+)\s*[:=]\s*([0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?)$/i.exec(part);
    const key = m?.[1]?.toLowerCase();
    if (!m || !key || !(LOAD_COMPONENTS as readonly string[]).includes(key)) {
      throw new Error(`bad entry "${part}": expected <component>:<number> with component one of ${LOAD_COMPONENTS.join(', ')}`);
    }
    const value = Number(m[2]);
    if (!Number.isFinite(value) || value < opts.min || (opts.positive && value <= 0)) {
      throw new Error(`bad entry "${part}": ${key} must be ${opts.positive ? 'greater than' : 'at least'} ${opts.min}`);
    }
    out[key as LoadComponentKey] = value;
  }
  return out;
}

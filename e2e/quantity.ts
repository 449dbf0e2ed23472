// Kubernetes resource quantities ("500m", "256Mi", "1.5", "2e3"), read the way the API server reads
// them (k8s.io/apimachinery/pkg/api/resource): a decimal number with an optional binary (Ki..Ei),
// decimal (n, u, m, k, M..E) or exponent (e3) suffix, rounded up to the unit asked for.

const SUFFIX_FACTORS: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

function quantityValue(quantity: string | number): number {
  if (typeof quantity === "number") return quantity;
  const match = QUANTITY.exec(quantity);
  if (match === null) throw new Error(`'${quantity}' is not a Kubernetes quantity`);
  const [, number, suffix = ""] = match;
  const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : (SUFFIX_FACTORS[suffix] as number);
  return Number(number) * factor;
}

/** A CPU quantity in millicores, rounded up as Quantity.MilliValue does: "500m" -> 500, "1.5" -> 1500. */
export function cpuMillicores(quantity: string | number): number {
  // Rounded to 9 digits first, so that binary floating point (0.1 * 1000 = 100.00000000000001) does not round up.
  return Math.ceil(Number((quantityValue(quantity) * 1000).toFixed(9)));
}

/** A memory quantity in bytes, rounded up as Quantity.Value does: "256Mi" -> 268435456, "1k" -> 1000. */
export function memoryBytes(quantity: string | number): number {
  return Math.ceil(Number(quantityValue(quantity).toFixed(9)));
}

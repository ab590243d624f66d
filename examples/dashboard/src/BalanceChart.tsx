// balanceHistory as an inline SVG step chart: posted (solid) and available (dashed) at the end
// of each period, plus the live balance now. The y scale is computed in BigInt minor units.
import { useEffect, useLayoutEffect, useRef, useState, type RefObject } from "react";
import type { Api, ApiError } from "./api";
import { niceYScale, yPixel, type YScale } from "./chartScale";
import { ErrorBox } from "./common";
import { formatMinor, parseMinor, type CurrencyRef } from "./money";
import { balanceHistoryQuery, type Balance, type BalanceHistoryData, type BalancePoint, type Granularity } from "./operations";
import { formatDateTime } from "./time";

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

interface RangeOption {
  id: string;
  label: string;
  granularity: Granularity;
  spanMs: number;
  /** Points balanceHistory returns at most (the period containing `from` up to the last ended one). */
  pointsMax: number;
}

const rangeOptions: RangeOption[] = [
  { id: "24h", label: "24 hours", granularity: "HOUR", spanMs: dayMs, pointsMax: 25 },
  { id: "7d", label: "7 days", granularity: "HOUR", spanMs: 7 * dayMs, pointsMax: 7 * 24 + 1 },
  { id: "30d", label: "30 days", granularity: "DAY", spanMs: 30 * dayMs, pointsMax: 31 },
  { id: "12m", label: "12 months", granularity: "MONTH", spanMs: 365 * dayMs, pointsMax: 13 },
];

interface Props {
  api: Api;
  accountId: string;
  currency: CurrencyRef;
  /** The live balance, drawn as the last point ("now"). */
  current: Balance;
  /** limits.balanceHistoryPointsMax: ranges needing more points are offered disabled. */
  pointsMax: number;
}

function useWidth<T extends HTMLElement>(): [RefObject<T | null>, number] {
  const ref = useRef<T | null>(null);
  const [width, setWidth] = useState(640);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => entry && setWidth(Math.max(280, Math.floor(entry.contentRect.width))));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

export function BalanceChart({ api, accountId, currency, current, pointsMax }: Props) {
  const [rangeId, setRangeId] = useState("24h");
  const [points, setPoints] = useState<BalancePoint[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [reload, setReload] = useState(0);
  const [containerRef, width] = useWidth<HTMLDivElement>();
  const range = rangeOptions.find((r) => r.id === rangeId) ?? rangeOptions[0]!;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `reload` is a trigger (the retry button), not read
  useEffect(() => {
    let live = true;
    const to = new Date();
    const from = new Date(to.getTime() - range.spanMs);
    setError(null);
    api
      .query<BalanceHistoryData>(balanceHistoryQuery, {
        id: accountId,
        from: from.toISOString(),
        to: to.toISOString(),
        granularity: range.granularity,
      })
      .then(
        (data) => live && setPoints(data.account?.balanceHistory ?? []),
        (e: ApiError) => live && setError(e),
      );
    return () => {
      live = false;
    };
  }, [api, accountId, range, reload]);

  return (
    <div className="card chart-card">
      <div className="card-head">
        <h2>Balance history</h2>
        {/* biome-ignore lint/a11y/useSemanticElements: a segmented button bar, styled as one control; a fieldset would add a border and legend */}
        <div className="segmented" role="group" aria-label="Range">
          {rangeOptions.map((option) => (
            <button
              key={option.id}
              type="button"
              className={option.id === rangeId ? "active" : ""}
              data-testid={`chart-range-${option.id}`}
              disabled={option.pointsMax > pointsMax}
              title={`${option.granularity.toLowerCase()} periods${option.pointsMax > pointsMax ? " (more points than the server allows)" : ""}`}
              onClick={() => (option.id === rangeId ? setReload((n) => n + 1) : setRangeId(option.id))}
            >
              {option.label}
            </button>
          ))}
        </div>
      </div>
      <ErrorBox error={error} what="Cannot load the balance history" />
      <div ref={containerRef} className="chart-box">
        {points ? (
          <Chart points={points} current={current} currency={currency} width={width} granularity={range.granularity} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </div>
    </div>
  );
}

interface Sample {
  timeMs: number;
  posted: bigint;
  available: bigint;
  label: string;
}

const height = 240;
const margin = { top: 12, right: 16, bottom: 28 };

function axisTimeLabel(timeMs: number, granularity: Granularity, spanMs: number): string {
  const date = new Date(timeMs);
  if (granularity === "MONTH") return date.toLocaleDateString(undefined, { month: "short", year: "numeric" });
  if (granularity === "DAY" || spanMs > 2 * dayMs) return date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function stepPath(samples: Sample[], x: (t: number) => number, y: (v: bigint) => number, pick: (s: Sample) => bigint): string {
  return samples
    .map((s, i) => {
      const px = x(s.timeMs).toFixed(1);
      const py = y(pick(s)).toFixed(1);
      return i === 0 ? `M${px},${py}` : `H${px}V${py}`;
    })
    .join("");
}

function Chart({
  points,
  current,
  currency,
  width,
  granularity,
}: {
  points: BalancePoint[];
  current: Balance;
  currency: CurrencyRef;
  width: number;
  granularity: Granularity;
}) {
  // Each point is the balance at its periodEnd; the period in progress is the live balance now.
  const samples: Sample[] = points.map((p) => ({
    timeMs: new Date(p.periodEnd).getTime(),
    posted: parseMinor(p.balance.posted),
    available: parseMinor(p.balance.available),
    label: `end of period ${formatDateTime(p.periodStart)} – ${formatDateTime(p.periodEnd)}`,
  }));
  samples.push({ timeMs: Date.now(), posted: parseMinor(current.posted), available: parseMinor(current.available), label: "now" });

  const scale: YScale = niceYScale(
    samples.flatMap((s) => [s.posted, s.available]),
    10n ** BigInt(currency.scale),
  );
  const tickLabels = scale.ticks.map((t) => formatMinor(t.toString(), currency.scale));
  const left = 12 + 7 * Math.max(...tickLabels.map((l) => l.length));
  const plotWidth = width - left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const t0 = samples[0]!.timeMs;
  const t1 = Math.max(samples[samples.length - 1]!.timeMs, t0 + 1);
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * plotWidth;
  const y = (v: bigint) => yPixel(v, scale, margin.top, plotHeight);
  const timeTickCount = width < 520 ? 3 : 5;
  const timeTicks = Array.from({ length: timeTickCount }, (_, i) => t0 + ((t1 - t0) * i) / (timeTickCount - 1));

  return (
    <>
      <svg
        data-testid="balance-chart"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Balance history in ${currency.code}`}
        className="chart"
      >
        {scale.ticks.map((tick, i) => (
          <g key={tick.toString()}>
            <line x1={left} x2={width - margin.right} y1={y(tick)} y2={y(tick)} className={tick === 0n ? "grid zero" : "grid"} />
            <text x={left - 6} y={y(tick)} dy="0.32em" textAnchor="end" className="axis-label">
              {tickLabels[i]}
            </text>
          </g>
        ))}
        {timeTicks.map((t, i) => (
          <text
            // biome-ignore lint/suspicious/noArrayIndexKey: ticks are positions on the axis, redrawn whole
            key={i}
            x={x(t)}
            y={height - 8}
            textAnchor={i === 0 ? "start" : i === timeTickCount - 1 ? "end" : "middle"}
            className="axis-label"
          >
            {axisTimeLabel(t, granularity, t1 - t0)}
          </text>
        ))}
        <path d={stepPath(samples, x, y, (s) => s.available)} className="line available" />
        <path d={stepPath(samples, x, y, (s) => s.posted)} className="line posted" />
        {samples.map((s, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: one dot per sample position, redrawn whole
          <circle key={i} cx={x(s.timeMs)} cy={y(s.posted)} r={samples.length <= 60 ? 2.5 : 0} className="dot">
            <title>{`${s.label}\nposted ${formatMinor(s.posted.toString(), currency.scale)} ${currency.code}\navailable ${formatMinor(s.available.toString(), currency.scale)} ${currency.code}`}</title>
          </circle>
        ))}
      </svg>
      <div className="legend">
        <span className="key posted" /> Posted <span className="key available" /> Available
        <span className="muted small">
          {" "}
          · {currency.code}, balance at the end of each {granularity.toLowerCase()}
        </span>
      </div>
    </>
  );
}

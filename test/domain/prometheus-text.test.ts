// The Prometheus text format parser (src/domain/prometheus-text.ts) on what
// etcd 3.4 serves and on the format's corners.
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, parseSampleLine, samplesNamed } from '../../src/domain/prometheus-text.js';

// Lines as etcd 3.4.23 (Debian) serves them on /metrics.
const ETCD = `# HELP etcd_network_active_peers The current number of active peer connections.
# TYPE etcd_network_active_peers gauge
etcd_network_active_peers{Local="2f7fbfd36802ff7a",Remote="6f5699f1ec047f00"} 1
etcd_network_active_peers{Local="2f7fbfd36802ff7a",Remote="ae049c7b6f20eca5"} 0
etcd_network_peer_round_trip_time_seconds_bucket{To="6f5699f1ec047f00",le="0.0001"} 0
etcd_network_peer_round_trip_time_seconds_bucket{To="6f5699f1ec047f00",le="+Inf"} 116
etcd_network_peer_round_trip_time_seconds_sum{To="6f5699f1ec047f00"} 0.4762000550000002
etcd_network_peer_round_trip_time_seconds_count{To="6f5699f1ec047f00"} 116
# HELP etcd_server_has_leader Whether or not a leader exists. 1 is existence, 0 is not.
# TYPE etcd_server_has_leader gauge
etcd_server_has_leader 1
go_memstats_gc_cpu_fraction 4.2383939582906825e-05
process_start_time_seconds 1.79603367196e+09
`;

describe('the Prometheus text format', () => {
  it("reads etcd's samples: names, labels, values (exponents, +Inf buckets)", () => {
    const m = parsePrometheusText(ETCD);
    expect(m.skipped).toBe(0);
    expect(samplesNamed(m, 'etcd_network_active_peers')).toEqual([
      {
        name: 'etcd_network_active_peers',
        labels: { Local: '2f7fbfd36802ff7a', Remote: '6f5699f1ec047f00' },
        value: 1,
      },
      {
        name: 'etcd_network_active_peers',
        labels: { Local: '2f7fbfd36802ff7a', Remote: 'ae049c7b6f20eca5' },
        value: 0,
      },
    ]);
    expect(samplesNamed(m, 'etcd_network_peer_round_trip_time_seconds_bucket')[1]?.labels.le).toBe('+Inf');
    expect(samplesNamed(m, 'go_memstats_gc_cpu_fraction')[0]?.value).toBeCloseTo(4.23839395829e-5, 12);
    expect(samplesNamed(m, 'process_start_time_seconds')[0]?.value).toBe(1796033671960 / 1000);
  });

  it('parses only the families asked for, when asked', () => {
    const m = parsePrometheusText(ETCD, ['etcd_server_has_leader']);
    expect(m.samples).toEqual([{ name: 'etcd_server_has_leader', labels: {}, value: 1 }]);
  });

  it('unescapes label values, takes timestamps, NaN and ±Inf, spaces around labels', () => {
    expect(parseSampleLine('m{path="C:\\\\x",msg="say \\"hi\\"\\n"} 2 1712345678000')).toEqual({
      name: 'm',
      labels: { path: 'C:\\x', msg: 'say "hi"\n' },
      value: 2,
    });
    expect(parseSampleLine('m{ a = "1" , b="2", } NaN')?.value).toBeNaN();
    expect(parseSampleLine('m{a="x,y}"} -Inf')).toEqual({
      name: 'm',
      labels: { a: 'x,y}' },
      value: -Infinity,
    });
    expect(parseSampleLine('m +Inf')?.value).toBe(Infinity);
    expect(parseSampleLine('m{} 3')).toEqual({ name: 'm', labels: {}, value: 3 });
  });

  it('skips and counts what is not a sample, never guessing', () => {
    const bad = [
      'm{a="unterminated} 1',
      'm{a="bad \\q escape"} 1',
      'm{1a="x"} 1',
      'm{a="x"}1',
      'm one',
      'm 1 2 3',
      'm 1 notatime',
      '{a="x"} 1',
    ];
    for (const l of bad) expect(parseSampleLine(l), l).toBeNull();
    expect(parsePrometheusText(`${bad.join('\n')}\nok 1\n`)).toEqual({
      samples: [{ name: 'ok', labels: {}, value: 1 }],
      skipped: bad.length,
    });
  });
});

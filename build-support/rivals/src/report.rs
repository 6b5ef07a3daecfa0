//! The figures: per round, calls/s and the ratios `pseud ÷ X`; per run, min / median
//! / max of each ratio over the rounds and the median calls/s; over runs, min /
//! median / max of the per-run medians. A ratio above 1 means pseud did more calls
//! per second than X. Ratios are taken within a round (pseud and X measured a few
//! seconds apart), so a slow moment of the machine moves both sides of a ratio.

use crate::measure::warm_up;
use crate::runner::Plan;
use crate::sides::{Framework, WINDOW};

/// One framework's calls/s in one round.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub framework: Framework,
    pub seq: f64,
    pub window: f64,
}

/// Smallest, median and largest of some figures.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    /// Of a non-empty list (the median of an even count is the mean of the middle two).
    pub fn of(values: &[f64]) -> Spread {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Spread {
            min: v[0],
            median,
            max: v[n - 1],
        }
    }

    fn cells(&self) -> String {
        format!("{:>6.2} {:>6.2} {:>6.2}", self.min, self.median, self.max)
    }
}

/// `pseud ÷ x`.
fn ratio(pseud: f64, x: f64) -> f64 {
    pseud / x.max(1e-9)
}

/// One run: per framework, median calls/s; per rival, the spread of its ratios.
pub struct Summary {
    /// (framework, median sequential calls/s, median windowed calls/s), pseud first.
    pub rates: Vec<(Framework, f64, f64)>,
    /// (rival, sequential ratio spread, windowed ratio spread).
    pub ratios: Vec<(Framework, Spread, Spread)>,
    rounds: usize,
}

impl Summary {
    /// Of a run's rounds, each in plan order (pseud first).
    pub fn of(rounds: &[Vec<Sample>]) -> Summary {
        let column = |i: usize, f: fn(&Sample) -> f64| -> Vec<f64> {
            rounds.iter().map(|r| f(&r[i])).collect()
        };
        let n = rounds[0].len();
        let rates = (0..n)
            .map(|i| {
                let seq = Spread::of(&column(i, |s| s.seq)).median;
                let window = Spread::of(&column(i, |s| s.window)).median;
                (rounds[0][i].framework, seq, window)
            })
            .collect();
        let ratios = (1..n)
            .map(|i| {
                let seq: Vec<f64> = rounds.iter().map(|r| ratio(r[0].seq, r[i].seq)).collect();
                let window: Vec<f64> = rounds
                    .iter()
                    .map(|r| ratio(r[0].window, r[i].window))
                    .collect();
                (
                    rounds[0][i].framework,
                    Spread::of(&seq),
                    Spread::of(&window),
                )
            })
            .collect();
        Summary {
            rates,
            ratios,
            rounds: rounds.len(),
        }
    }

    /// The run's table.
    pub fn print(&self, run: usize, runs: usize) {
        let which = if runs > 1 {
            format!("run {}/{}", run + 1, runs)
        } else {
            "summary".to_string()
        };
        println!("\n{which}: over {} rounds", self.rounds);
        let title = format!(
            "  {:<10} {:>12} {:>15}   {:^20}   {:^20}",
            "", "median seq/s", "median window/s", "pseud÷X seq", "pseud÷X window"
        );
        println!("{}", title.trim_end());
        println!(
            "  {:<10} {:>12} {:>15}   {:>6} {:>6} {:>6}   {:>6} {:>6} {:>6}",
            "", "", "", "min", "median", "max", "min", "median", "max"
        );
        for &(framework, seq, window) in &self.rates {
            let spreads = self.ratios.iter().find(|r| r.0 == framework);
            let cells = spreads
                .map(|(_, s, w)| format!("   {}   {}", s.cells(), w.cells()))
                .unwrap_or_default();
            println!(
                "  {:<10} {seq:>12.0} {window:>15.0}{cells}",
                framework.name()
            );
        }
    }
}

/// What is measured, once at the start.
pub fn header(plan: &Plan) {
    let names: Vec<&str> = plan.frameworks.iter().map(|f| f.name()).collect();
    println!(
        "rivals: add(1, 2) over tcp://127.0.0.1, one server and one client process each: {}",
        names.join(", ")
    );
    println!(
        "  {} run(s) of {} rounds; per framework and round: sequential, then {WINDOW} in flight, {:.2} s each after {:.2} s warm-up",
        plan.runs,
        plan.rounds,
        plan.duration.as_secs_f64(),
        warm_up(plan.duration).as_secs_f64()
    );
}

/// One round: calls/s of each framework and pseud ÷ each rival.
pub fn round(round: usize, rounds: usize, samples: &[Sample]) {
    let pseud = samples[0];
    println!(
        "round {}/{rounds}  {:>10} {:>10}  {:>11} {:>14}",
        round + 1,
        "seq/s",
        "window/s",
        "pseud÷X seq",
        "pseud÷X window"
    );
    for s in samples {
        let ratios = if s.framework == pseud.framework {
            String::new()
        } else {
            format!(
                "  {:>11.2} {:>14.2}",
                ratio(pseud.seq, s.seq),
                ratio(pseud.window, s.window)
            )
        };
        println!(
            "  {:<10} {:>10.0} {:>10.0}{ratios}",
            s.framework.name(),
            s.seq,
            s.window
        );
    }
}

/// Over runs: the spread of each run's median ratios and median calls/s.
pub fn over_runs(summaries: &[Summary]) {
    println!(
        "\nover {} runs: min / median / max of the per-run medians",
        summaries.len()
    );
    let title = format!(
        "  {:<10} {:^20}   {:^20}   {:^26}   {:^26}",
        "", "pseud÷X seq", "pseud÷X window", "median seq/s", "median window/s"
    );
    println!("{}", title.trim_end());
    println!(
        "  {:<10} {:>6} {:>6} {:>6}   {:>6} {:>6} {:>6}   {:>8} {:>8} {:>8}   {:>8} {:>8} {:>8}",
        "",
        "min",
        "median",
        "max",
        "min",
        "median",
        "max",
        "min",
        "median",
        "max",
        "min",
        "median",
        "max"
    );
    let first = &summaries[0];
    for (i, &(framework, _, _)) in first.rates.iter().enumerate() {
        let seq_rate = Spread::of(&summaries.iter().map(|s| s.rates[i].1).collect::<Vec<_>>());
        let window_rate = Spread::of(&summaries.iter().map(|s| s.rates[i].2).collect::<Vec<_>>());
        let ratios = if i == 0 {
            format!("{:<20}   {:<20}", "", "")
        } else {
            let seq = summaries
                .iter()
                .map(|s| s.ratios[i - 1].1.median)
                .collect::<Vec<_>>();
            let window = summaries
                .iter()
                .map(|s| s.ratios[i - 1].2.median)
                .collect::<Vec<_>>();
            format!(
                "{}   {}",
                Spread::of(&seq).cells(),
                Spread::of(&window).cells()
            )
        };
        println!(
            "  {:<10} {ratios}   {:>8.0} {:>8.0} {:>8.0}   {:>8.0} {:>8.0} {:>8.0}",
            framework.name(),
            seq_rate.min,
            seq_rate.median,
            seq_rate.max,
            window_rate.min,
            window_rate.median,
            window_rate.max
        );
    }
}

/// One JSON line for scripts: medians over runs of the per-run medians.
pub fn json(plan: &Plan, summaries: &[Summary]) {
    let median_of = |f: &dyn Fn(&Summary) -> f64| {
        Spread::of(&summaries.iter().map(f).collect::<Vec<_>>()).median
    };
    let first = &summaries[0];
    let rates: Vec<String> = (0..first.rates.len())
        .map(|i| {
            format!(
                "\"{}\":{{\"seq\":{:.1},\"window\":{:.1}}}",
                first.rates[i].0.name(),
                median_of(&|s| s.rates[i].1),
                median_of(&|s| s.rates[i].2)
            )
        })
        .collect();
    let ratios: Vec<String> = (0..first.ratios.len())
        .map(|i| {
            format!(
                "\"{}\":{{\"seq\":{:.3},\"window\":{:.3}}}",
                first.ratios[i].0.name(),
                median_of(&|s| s.ratios[i].1.median),
                median_of(&|s| s.ratios[i].2.median)
            )
        })
        .collect();
    println!(
        "{{\"runs\":{},\"rounds\":{},\"duration_s\":{},\"calls_per_s\":{{{}}},\"pseud_over\":{{{}}}}}",
        plan.runs,
        plan.rounds,
        plan.duration.as_secs_f64(),
        rates.join(","),
        ratios.join(",")
    );
}

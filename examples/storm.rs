//! A reconnect storm in virtual time: 10,000 and 100,000 clients, each a real
//! [`Machine`](steadysocket::machine::Machine), all dropped at t = 0 by a server that
//! accepts at most 1,000 handshakes per second (`--capacity N` for another).
//!
//! ```text
//! cargo run --release --example storm      # or: npm run storm
//! cargo run --release --example storm -- --quick            # 10,000 clients only
//! cargo run --release --example storm -- --capacity 5000    # another server
//! ```
//!
//! Prints one table per scenario (policy × clients: peak attempts per 100 ms, time
//! until 99% are connected, failed handshakes) and writes `bench-results/storm.svg`
//! (attempts per 100 ms over the first 40 s, 10,000 clients, log scale).
//!
//! **Server model.** Every client is open at t = 0 and the server drops them all at
//! once: a crash (`close` 1006, the *drop* scenario) or a shed at capacity (`close`
//! 1013 Try Again Later, the *shed* scenario). From then on each `Connect` is a
//! handshake: the server accepts it when fewer than N handshakes were
//! accepted in the trailing second (a sliding one-second window, so "at most N per
//! second" holds for every window), else refuses it with an HTTP 503. The answer
//! reaches the client 5 ms later: `open`, or what a browser reports for a refused
//! handshake, `error` then `close` 1006 (not clean). A client that opened stays
//! open. Failed handshakes are the refused ones. Only steadysocket has a 1013 rule
//! (wait about the maximum delay); reconnecting-websocket and a fixed-delay retry
//! treat a 1013 as any close, so for them the shed is the same run as the drop.
//!
//! The core is sans-IO, so this is the driver's call order of the rustdoc: after
//! every input, drain `poll_action()`, then `poll_event()`, then arm one timer at
//! `poll_timeout()`; `handle_timeout(now)` when it fires. Wakeups are a binary heap of
//! (time, sequence) entries; the sequence breaks ties first-in first-out, and every
//! seed is fixed, so a re-run prints the same numbers.
//!
//! It only runs natively (wasm32 gets an empty `main`, so `clippy --all-targets
//! --target wasm32-unknown-unknown` still builds it).

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    storm::main();
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod storm {
    use std::cmp::Ordering;
    use std::collections::{BinaryHeap, VecDeque};
    use std::fmt::Write as _;
    use std::time::Duration;

    use steadysocket::machine::{Action, Event, Instant, Machine, SocketId};
    use steadysocket::{Config, Message};

    /// Handshakes the server accepts per second, unless `--capacity N` says otherwise.
    const CAPACITY: usize = 1_000;
    /// From the client's `Connect` to the server's answer reaching it.
    const LATENCY: Duration = Duration::from_millis(5);
    /// Width of one bin of the attempt rate.
    const BIN_MS: f64 = 100.0;
    /// A run that has not reached 99% by then is reported as "> LIMIT".
    const LIMIT: Duration = Duration::from_secs(3_600);
    /// The plot's time range (the 10,000-client storms are over by 31 s).
    const PLOT_SECONDS: usize = 40;

    /// SplitMix64: per-client seeds and reconnecting-websocket's per-client minimum.
    struct SplitMix(u64);

    impl SplitMix {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn unit(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Policy {
        /// `Config::default()`: min 1 s, max 30 s, growth 1.5, jitter 0.5.
        Steady,
        /// reconnecting-websocket 4.4's defaults: min `1000 + random() * 4000` ms (drawn
        /// once per page), max 10 s, growth 1.3, no per-attempt jitter.
        Rws,
        /// A fixed 3 s retry (leptos-use's `reconnect_interval`), no jitter.
        Fixed3s,
        /// The steadysocket schedule with full jitter (`reconnection_jitter = 1`).
        FullJitter,
    }

    const POLICIES: [Policy; 4] = [
        Policy::Steady,
        Policy::Rws,
        Policy::Fixed3s,
        Policy::FullJitter,
    ];

    impl Policy {
        fn name(self) -> &'static str {
            match self {
                Policy::Steady => "steadysocket defaults",
                Policy::Rws => "reconnecting-websocket defaults",
                Policy::Fixed3s => "fixed 3 s",
                Policy::FullJitter => "full jitter",
            }
        }

        fn color(self) -> &'static str {
            match self {
                Policy::Steady => "#1f77b4",
                Policy::Rws => "#d62728",
                Policy::Fixed3s => "#7f7f7f",
                Policy::FullJitter => "#2ca02c",
            }
        }

        /// The client's config; `rng` is the client's own generator.
        fn config(self, rng: &mut SplitMix) -> Config {
            let ms = Duration::from_millis;
            match self {
                Policy::Steady => Config::default(),
                Policy::Rws => Config::default()
                    .with_min_reconnection_delay(Duration::from_secs_f64(
                        (1000.0 + rng.unit() * 4000.0) / 1000.0,
                    ))
                    .with_max_reconnection_delay(ms(10_000))
                    .with_reconnection_delay_grow_factor(1.3)
                    .with_reconnection_jitter(0.0),
                Policy::Fixed3s => Config::default()
                    .with_min_reconnection_delay(ms(3000))
                    .with_max_reconnection_delay(ms(3000))
                    .with_reconnection_delay_grow_factor(1.0)
                    .with_reconnection_jitter(0.0),
                Policy::FullJitter => Config::default().with_reconnection_jitter(1.0),
            }
        }

        /// Whether the library waits about the maximum delay after a 1013. Only
        /// steadysocket does; the others treat it as any close, so their clients get
        /// it as an ordinary close (1001: the core's only code-specific rule is 1013's).
        fn honours_1013(self) -> bool {
            matches!(self, Policy::Steady | Policy::FullJitter)
        }
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Scenario {
        /// The server crashes: every connection ends with 1006.
        Drop,
        /// The server is at capacity and sheds everyone with 1013.
        Shed,
    }

    impl Scenario {
        fn title(self) -> &'static str {
            match self {
                Scenario::Drop => "server drop: everyone closed with 1006 at t = 0",
                Scenario::Shed => "load shed: everyone closed with 1013 at t = 0",
            }
        }

        fn plot_title(self) -> &'static str {
            match self {
                Scenario::Drop => self.title(),
                Scenario::Shed => {
                    "load shed: everyone closed with 1013 at t = 0 (reconnecting-websocket \
                     and fixed 3 s have no 1013 rule: as above)"
                }
            }
        }
    }

    /// At most `capacity` accepted handshakes in any trailing second.
    struct Server {
        capacity: usize,
        accepted: VecDeque<Instant>,
    }

    impl Server {
        fn admit(&mut self, now: Instant) -> bool {
            while self
                .accepted
                .front()
                .is_some_and(|&t| t + Duration::from_secs(1) <= now)
            {
                self.accepted.pop_front();
            }
            let ok = self.accepted.len() < self.capacity;
            if ok {
                self.accepted.push_back(now);
            }
            ok
        }
    }

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Kind {
        /// The client's armed timer.
        Timer,
        /// The server's answer to the handshake on this socket.
        Answer(SocketId, bool),
    }

    #[derive(PartialEq, Eq)]
    struct Wake {
        at: Instant,
        seq: u64,
        client: u32,
        kind: Kind,
    }

    impl Ord for Wake {
        // Reversed: `BinaryHeap` is a max-heap, the earliest wakeup must come first.
        fn cmp(&self, other: &Self) -> Ordering {
            (other.at, other.seq).cmp(&(self.at, self.seq))
        }
    }

    impl PartialOrd for Wake {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    struct Outcome {
        /// Handshake attempts per 100 ms bin since t = 0.
        bins: Vec<u32>,
        /// Time until 99% were open; `None` when not within `LIMIT`.
        t99: Option<Duration>,
        failed: u64,
    }

    impl Outcome {
        fn peak(&self) -> u32 {
            self.bins.iter().copied().max().unwrap_or(0)
        }
    }

    struct Sim {
        clients: Vec<Machine<Message>>,
        /// The time each client's timer is armed for (stale heap entries are skipped).
        armed: Vec<Option<Instant>>,
        heap: BinaryHeap<Wake>,
        seq: u64,
        server: Server,
        bins: Vec<u32>,
        failed: u64,
        connected: usize,
        target: usize,
        t99: Option<Instant>,
    }

    impl Sim {
        fn push(&mut self, at: Instant, client: u32, kind: Kind) {
            self.seq += 1;
            self.heap.push(Wake {
                at,
                seq: self.seq,
                client,
                kind,
            });
        }

        /// After an input to `client` at `now`: actions, then events, then the timer.
        fn outputs(&mut self, client: u32, now: Instant) {
            let c = client as usize;
            while let Some(action) = self.clients[c].poll_action() {
                if let Action::Connect { socket, .. } = action {
                    let bin = (now.as_millis_f64() / BIN_MS) as usize;
                    if self.bins.len() <= bin {
                        self.bins.resize(bin + 1, 0);
                    }
                    self.bins[bin] += 1;
                    let accepted = self.server.admit(now);
                    self.push(now + LATENCY, client, Kind::Answer(socket, accepted));
                }
            }
            while let Some(event) = self.clients[c].poll_event() {
                if matches!(event, Event::Open) {
                    self.connected += 1;
                    if self.connected == self.target {
                        self.t99 = Some(now);
                    }
                }
            }
            let next = self.clients[c].poll_timeout();
            if next != self.armed[c] {
                if let Some(at) = next {
                    self.push(at, client, Kind::Timer);
                }
                self.armed[c] = next;
            }
        }
    }

    fn run(policy: Policy, scenario: Scenario, n: usize, capacity: usize) -> Outcome {
        let zero = Instant::ZERO;
        let mut sim = Sim {
            clients: Vec::with_capacity(n),
            armed: vec![None; n],
            heap: BinaryHeap::new(),
            seq: 0,
            server: Server {
                capacity,
                accepted: VecDeque::new(),
            },
            bins: Vec::new(),
            failed: 0,
            connected: 0,
            target: (n * 99).div_ceil(100),
            t99: None,
        };
        for i in 0..n {
            let mut rng = SplitMix(0x5EED_0000 + i as u64);
            let config = policy.config(&mut rng);
            let mut m = Machine::new(config, rng.next_u64(), zero).expect("a valid config");
            // Before the storm: connected (this first attempt is not counted).
            let Some(Action::Connect { socket, .. }) = m.poll_action() else {
                unreachable!("a new core connects at once");
            };
            m.handle_open(zero, socket);
            while m.poll_action().is_some() {}
            while m.poll_event().is_some() {}
            // t = 0: the server ends every connection.
            match scenario {
                Scenario::Drop => m.handle_close(zero, socket, 1006, "", false),
                Scenario::Shed if policy.honours_1013() => {
                    m.handle_close(zero, socket, 1013, "at capacity", true);
                }
                Scenario::Shed => m.handle_close(zero, socket, 1001, "at capacity", true),
            }
            sim.clients.push(m);
            sim.outputs(i as u32, zero);
        }
        let limit = zero + LIMIT;
        while let Some(Wake {
            at, client, kind, ..
        }) = sim.heap.pop()
        {
            if at > limit {
                break;
            }
            let c = client as usize;
            match kind {
                Kind::Timer => {
                    if sim.armed[c] != Some(at) {
                        continue; // re-armed since
                    }
                    sim.armed[c] = None;
                    sim.clients[c].handle_timeout(at);
                }
                Kind::Answer(socket, true) => sim.clients[c].handle_open(at, socket),
                Kind::Answer(socket, false) => {
                    sim.failed += 1;
                    sim.clients[c].handle_error(socket);
                    sim.outputs(client, at);
                    sim.clients[c].handle_close(at, socket, 1006, "", false);
                }
            }
            sim.outputs(client, at);
        }
        Outcome {
            bins: sim.bins,
            t99: sim.t99.map(|t| t.saturating_duration_since(zero)),
            failed: sim.failed,
        }
    }

    fn thousands(n: u64) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    }

    /// One plot panel: a scenario, and the attempt bins of each policy.
    type Panel = (Scenario, Vec<(Policy, Vec<u32>)>);

    /// Attempts per 100 ms over the first `PLOT_SECONDS`, one panel per scenario,
    /// one line per policy, log scale.
    fn svg(panels: &[Panel], clients: usize, capacity: usize) -> String {
        let (width, panel_h, left, right, top, gap) = (760.0, 230.0, 58.0, 14.0, 48.0, 62.0);
        let plot_w = width - left - right;
        let plot_h = panel_h - 40.0;
        let height = top + panels.len() as f64 * (panel_h + gap) - gap + 50.0;
        let decades = (clients as f64).log10().ceil();
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
             <text x=\"{left}\" y=\"20\" font-size=\"15\" font-weight=\"bold\">Reconnect storm: \
             handshake attempts per 100 ms, {} clients, server accepts {}/s</text>\n",
            thousands(clients as u64),
            thousands(capacity as u64),
        );
        // Legend.
        let mut x = left;
        for policy in POLICIES {
            let _ = writeln!(
                s,
                "<line x1=\"{x}\" y1=\"35\" x2=\"{}\" y2=\"35\" stroke=\"{}\" stroke-width=\"2.5\"/>\
                 <text x=\"{}\" y=\"39\">{}</text>",
                x + 18.0,
                policy.color(),
                x + 23.0,
                policy.name()
            );
            x += 23.0 + policy.name().len() as f64 * 6.6 + 22.0;
        }
        for (p, (scenario, lines)) in panels.iter().enumerate() {
            let y0 = top + p as f64 * (panel_h + gap) + 22.0;
            let y_of = |v: f64| y0 + plot_h - (v.max(1.0).log10() / decades) * plot_h;
            let x_of = |sec: f64| left + sec / PLOT_SECONDS as f64 * plot_w;
            let _ = writeln!(
                s,
                "<text x=\"{left}\" y=\"{}\" font-weight=\"bold\">{}</text>",
                y0 - 8.0,
                scenario.plot_title()
            );
            let _ = writeln!(
                s,
                "<rect x=\"{left}\" y=\"{y0}\" width=\"{plot_w}\" height=\"{plot_h}\" \
                 fill=\"none\" stroke=\"#999\"/>"
            );
            for d in 0..=decades as u32 {
                let y = y_of(10f64.powi(d as i32));
                let _ = writeln!(
                    s,
                    "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
                     <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                    left + plot_w,
                    left - 6.0,
                    y + 4.0,
                    thousands(10u64.pow(d))
                );
            }
            for sec in (0..=PLOT_SECONDS).step_by(5) {
                let x = x_of(sec as f64);
                let _ = writeln!(
                    s,
                    "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{sec} s</text>",
                    y0 + plot_h + 16.0
                );
            }
            let per_bin = capacity as f64 * BIN_MS / 1000.0;
            let cap = y_of(per_bin);
            let _ = writeln!(
                s,
                "<line x1=\"{left}\" y1=\"{cap:.1}\" x2=\"{}\" y2=\"{cap:.1}\" stroke=\"black\" \
                 stroke-dasharray=\"5 4\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">\
                 capacity ({} per 100 ms)</text>",
                left + plot_w,
                left + plot_w - 4.0,
                cap - 4.0,
                thousands(per_bin as u64)
            );
            for (policy, bins) in lines {
                let mut points = String::new();
                let count = PLOT_SECONDS * 1000 / BIN_MS as usize;
                let at = |b: usize| bins.get(b).copied().unwrap_or(0);
                for b in 0..count {
                    // Inside a flat run only its ends are needed (same line, smaller file).
                    if b > 0 && b + 1 < count && at(b - 1) == at(b) && at(b + 1) == at(b) {
                        continue;
                    }
                    let x = x_of((b as f64 + 0.5) * BIN_MS / 1000.0);
                    let _ = write!(points, "{x:.1},{:.1} ", y_of(f64::from(at(b))));
                }
                let _ = writeln!(
                    s,
                    "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.4\" \
                     stroke-opacity=\"0.85\" points=\"{}\"/>",
                    policy.color(),
                    points.trim_end()
                );
            }
        }
        let _ = writeln!(
            s,
            "<text x=\"{left}\" y=\"{:.1}\" fill=\"#555\">log scale; an empty bin sits on the \
             axis. Generated by `cargo run --release --example storm`.</text>\n</svg>",
            height - 12.0
        );
        s
    }

    pub(super) fn main() {
        let args: Vec<String> = std::env::args().collect();
        let quick = args.iter().any(|a| a == "--quick");
        let capacity = args
            .iter()
            .position(|a| a == "--capacity")
            .and_then(|i| args.get(i + 1)?.parse().ok())
            .unwrap_or(CAPACITY);
        let sizes: &[usize] = if quick { &[10_000] } else { &[10_000, 100_000] };
        println!(
            "Reconnect storm: the server accepts at most {} handshakes in any 1 s window \
             and answers after {} ms; a refused one is an HTTP 503 (error + close 1006).",
            thousands(capacity as u64),
            LATENCY.as_millis()
        );
        let mut panels: Vec<Panel> = Vec::new();
        // (policy, clients) -> outcome of the drop scenario, for the policies that
        // treat a 1013 as any close (their shed run would be the same run).
        let mut drop_runs: Vec<(Policy, usize, Outcome)> = Vec::new();
        for scenario in [Scenario::Drop, Scenario::Shed] {
            println!("\n### {}\n", scenario.title());
            println!(
                "| policy | clients | peak attempts / 100 ms | 99% connected after | \
                 failed handshakes |"
            );
            println!("|---|---:|---:|---:|---:|");
            let mut lines = Vec::new();
            for policy in POLICIES {
                for &n in sizes {
                    let reused = (scenario == Scenario::Shed && !policy.honours_1013())
                        .then(|| {
                            drop_runs
                                .iter()
                                .position(|(p, c, _)| *p == policy && *c == n)
                                .map(|i| drop_runs.swap_remove(i).2)
                        })
                        .flatten();
                    let out = reused.unwrap_or_else(|| run(policy, scenario, n, capacity));
                    let t99 = out.t99.map_or_else(
                        || format!("> {} s", LIMIT.as_secs()),
                        |t| format!("{:.1} s", t.as_secs_f64()),
                    );
                    let note = if scenario == Scenario::Shed && !policy.honours_1013() {
                        " (no 1013 rule: as a drop)"
                    } else {
                        ""
                    };
                    println!(
                        "| {}{} | {} | {} | {} | {} |",
                        policy.name(),
                        note,
                        thousands(n as u64),
                        thousands(u64::from(out.peak())),
                        t99,
                        thousands(out.failed)
                    );
                    if n == sizes[0] {
                        lines.push((policy, out.bins.clone()));
                    }
                    if scenario == Scenario::Drop && !policy.honours_1013() {
                        drop_runs.push((policy, n, out));
                    }
                }
            }
            panels.push((scenario, lines));
        }
        let plot = svg(&panels, sizes[0], capacity);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-results");
        let written = std::fs::create_dir_all(&path)
            .and_then(|()| std::fs::write(path.join("storm.svg"), plot));
        match written {
            Ok(()) => println!("\nwrote bench-results/storm.svg"),
            Err(e) => eprintln!("\ncould not write bench-results/storm.svg: {e}"),
        }
    }
}

//! What a user's energy term costs in the MD force routine: forces and torques of a 120-nucleotide
//! oxDNA2 duplex with the built-in terms alone, plus a restraint on one pair, plus a non-bonded
//! user term over every pair within 1.6 (a Gaussian between base and backbone sites, the kind of
//! term the built-in kernel has no hand-laid code for) — and, beside it, the same Gaussian
//! written by hand as a built-in term would be (one pass over the same candidate pairs, the sites
//! and the derivatives coded out), added to the same model's routine. The target: the
//! routine with the user's term costs at most 1.3 times the routine with the hand-written one.
//! Users' terms take their derivatives from one `f64` evaluation per pair that records a tape
//! and one backward sweep over it (`math::Tape`).
//! Run: `cargo bench --bench custom_term`. For instruction counts, the same routine in a plain
//! loop: `OXGRAD_BENCH_LOOP=<variant>:<iterations>` in the environment of the bench binary (variants
//! as the bench names them after `forces_120nt/`), e.g. under `valgrind --tool=callgrind`; the
//! difference of two iteration counts is the routine's cost without the set-up.

use criterion::{criterion_group, Criterion};
use oxgrad::energy::neighbors::pairs_within;
use oxgrad::energy::terms::Geometry;
use oxgrad::energy::{EnergyModel, ForceWorkspace, Forces, Frame};
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::geometry::Vec3;
use oxgrad::params::{ModelKind, ParamSet};
use oxgrad::system::{Topology, TopologyFormat};

/// The same terms as the tests use: a spring on one pair, a Gaussian over non-bonded pairs.
#[path = "../tests/common/terms.rs"]
mod terms;

use terms::{Bump, Spring};

/// `terms::Bump` coded out: a · exp(−r²/w²) with r from the base site of p to the backbone site
/// of q, over the non-bonded `candidates` with centres closer than 1.6, its forces and torques
/// by hand.
fn bump_by_hand(
    top: &Topology,
    offsets: &[[f64; 3]; 4],
    frame: &Frame,
    candidates: &[(usize, usize)],
    out: &mut Forces,
) {
    let (a_bump, w_bump) = (0.05, 0.6);
    let inv_w2 = 1.0 / (w_bump * w_bump);
    let (bb, hb) = (offsets[0], offsets[3]);
    let nts = &top.nucleotides;
    for &(p, q) in candidates {
        let d = frame.bx.min_image(frame.r[q] - frame.r[p]);
        if d.norm2() >= 1.6 * 1.6 || nts[p].n3 == Some(q) || nts[p].n5 == Some(q) {
            continue;
        }
        let (a, b) = (&frame.axes[p], &frame.axes[q]);
        let base_p = a[0] * hb[0];
        let backbone_q = b[0] * bb[0] + b[1] * bb[1];
        let r = d + backbone_q - base_p;
        let e = a_bump * (-(r.norm2() * inv_w2)).exp();
        let de_dr = r * (-2.0 * e * inv_w2);
        out.energy += e;
        out.f[p] += de_dr;
        out.f[q] -= de_dr;
        out.torque[p] += base_p.cross(de_dr);
        out.torque[q] -= backbone_q.cross(de_dr);
    }
}

/// The models and the frame of the bench.
struct Setup {
    top: Topology,
    offsets: [[f64; 3]; 4],
    plain: EnergyModel,
    restrained: EnergyModel,
    bumped: EnergyModel,
    frame: Frame,
}

fn setup() -> Setup {
    let seq = "ACGTTGCAATGCCGTAAGCTTGACCATGGTCAGTCAAGTCCTAGGATCCAGTTCACGTGA";
    let (top, conf) = helix(&parse_sequence(seq).unwrap(), Shape::Duplex, None, TopologyFormat::Classic).unwrap();
    let params = ParamSet::dna2_defaults();
    let offsets = Geometry::new(&params, ModelKind::Dna2).site_offsets();
    let plain = EnergyModel::new(&top, params).unwrap();
    let restrained = plain.clone().with_term(Spring { p: 0, q: 119 }, 1.0).unwrap();
    let bumped = restrained.clone().with_term(Bump, 1.0).unwrap();
    let frame = Frame::new(&conf);
    let candidates = pairs_within(&frame.r, &frame.bx, bumped.cutoff());

    // the hand-written Gaussian is the user's, to rounding
    let (mut user, mut hand) = (Forces::zeros(top.len()), Forces::zeros(top.len()));
    let mut ws = ForceWorkspace::default();
    bumped.accumulate_forces_with(&frame, &candidates, &mut user, &mut ws).unwrap();
    restrained.accumulate_forces_with(&frame, &candidates, &mut hand, &mut ws).unwrap();
    bump_by_hand(&top, &offsets, &frame, &candidates, &mut hand);
    assert!((user.energy - hand.energy).abs() < 1e-12 * user.energy.abs(), "{} vs {}", user.energy, hand.energy);
    let close = |x: &[Vec3], y: &[Vec3]| x.iter().zip(y).all(|(u, v)| (*u - *v).norm() < 1e-12 * u.norm().max(1.0));
    assert!(close(&user.f, &hand.f) && close(&user.torque, &hand.torque), "hand-written Gaussian differs");
    Setup { top, offsets, plain, restrained, bumped, frame }
}

impl Setup {
    /// The bench's variants: name, model, whether the hand-written Gaussian is added.
    fn variants(&self) -> [(&'static str, &EnergyModel, bool); 4] {
        [
            ("builtin", &self.plain, false),
            ("builtin+restraint", &self.restrained, false),
            ("builtin+restraint+nonbonded", &self.bumped, false),
            ("builtin+restraint+nonbonded_by_hand", &self.restrained, true),
        ]
    }
}

fn forces(c: &mut Criterion) {
    let s = setup();
    let (top, offsets, frame) = (&s.top, &s.offsets, &s.frame);
    let mut g = c.benchmark_group("forces_120nt");
    g.sample_size(30);
    for (name, model, by_hand) in s.variants() {
        let candidates = pairs_within(&frame.r, &frame.bx, model.cutoff());
        let mut out = Forces::zeros(top.len());
        let mut ws = ForceWorkspace::default();
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                model.accumulate_forces_with(frame, &candidates, &mut out, &mut ws).unwrap();
                if by_hand {
                    bump_by_hand(top, offsets, frame, &candidates, &mut out);
                }
                out.energy
            })
        });
    }
    g.finish();
}

/// `OXGRAD_BENCH_LOOP=<variant>:<iterations>`: the variant's routine in a plain loop.
fn plain_loop(spec: &str) {
    let (name, iterations) = spec.split_once(':').expect("OXGRAD_BENCH_LOOP=<variant>:<iterations>");
    let iterations: usize = iterations.parse().expect("a number of iterations");
    let s = setup();
    let (_, model, by_hand) = s.variants().into_iter().find(|v| v.0 == name).expect("a variant of the bench");
    let candidates = pairs_within(&s.frame.r, &s.frame.bx, model.cutoff());
    let mut out = Forces::zeros(s.top.len());
    let mut ws = ForceWorkspace::default();
    let mut sum = 0.0;
    for _ in 0..iterations {
        out.clear();
        model.accumulate_forces_with(&s.frame, &candidates, &mut out, &mut ws).unwrap();
        if by_hand {
            bump_by_hand(&s.top, &s.offsets, &s.frame, &candidates, &mut out);
        }
        sum += out.energy;
    }
    println!("{name}: {iterations} iterations, energy sum {sum}");
}

// criterion's HTML plots need system fonts this crate's plotters build does not load
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = forces
}

fn main() {
    match std::env::var("OXGRAD_BENCH_LOOP") {
        Ok(spec) => plain_loop(&spec),
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}

//! Which φ factor of stacking each of `a_stack_1` / `a_stack_2` modulates, computed by hand.
//!
//! At the defaults the two groups are equal and every oxDNA reference sees them only together, so
//! a swapped label would pass every energy comparison. Here one stacked pair is twisted until both
//! φ factors are in their quadratic region, f5(x) = 1 − a x² for x* < x ≤ 0, and each `a` is
//! changed alone: the energy must change by exactly the ratio of that factor, with
//!
//! ```text
//! cos φ(q) = b2 · r̂_b1  (a_stack_1, neg_cos_phi1_star_stack — the 3'-side nucleotide, jax_dna's naming)
//! cos φ(p) = a2 · r̂_b1  (a_stack_2, neg_cos_phi2_star_stack — the 5'-side nucleotide)
//! ```
//!
//! where a2 = a3 × a1 and r_b1 joins the oxDNA1 backbone sites r − 0.4 a1 (Ouldridge et al. 2011).

use oxgrad::energy::{EnergyModel, TermId};
use oxgrad::generate::{helix, parse_sequence, Shape};
use oxgrad::geometry::rotate;
use oxgrad::io::Configuration;
use oxgrad::params::ParamSet;
use oxgrad::system::TopologyFormat;

/// cos φ of the 5'-side nucleotide p and of the 3'-side q, by hand.
fn cos_phi(c: &Configuration, (p, q): (usize, usize)) -> (f64, f64) {
    let a2 = |i: usize| c.a3[i].cross(c.a1[i]);
    let bb = |i: usize| c.r[i] - c.a1[i] * 0.4;
    let r = (bb(q) - bb(p)).normalized();
    (a2(p).dot(r), a2(q).dot(r))
}

/// Twists each nucleotide of the pair about its own a3 around its stacking site r + 0.34 a1, so
/// that r_st, θ4, θ5 and θ6 stay as they are and only the backbone sites (and the φs) move.
fn twisted(c: &Configuration, alpha: f64, beta: f64) -> Configuration {
    let mut c = c.clone();
    for (i, angle) in [(0, alpha), (1, beta)] {
        let a1 = rotate(c.a1[i], c.a3[i], angle);
        c.r[i] = c.r[i] + (c.a1[i] - a1) * 0.34;
        c.a1[i] = a1;
    }
    c
}

fn stacking(params: &ParamSet, top: &oxgrad::system::Topology, c: &Configuration) -> f64 {
    EnergyModel::new(top, params.clone()).unwrap().breakdown(c).unwrap().term(TermId::Stacking)
}

#[test]
fn each_phi_parameter_modulates_its_own_nucleotide() {
    let (top, ideal) = helix(&parse_sequence("AC").unwrap(), Shape::Strand, None, TopologyFormat::Classic).unwrap();
    // classic topologies list a strand 3'→5': nucleotide 1 is the 5'-side p, q = n3(p) = 0
    let pair = top.bonded_pairs()[0];
    assert_eq!(pair, (1, 0));
    let defaults = ParamSet::dna1_defaults();
    assert!(stacking(&defaults, &top, &ideal) < -0.5, "the ideal pair is stacked");
    let x_star = -0.65;

    // a twist where both cosines are negative, inside the quadratic region, and clearly different
    let mut found = None;
    'scan: for i in -30..=30 {
        for j in -30..=30 {
            let (alpha, beta) = (0.05 * f64::from(i), 0.05 * f64::from(j));
            let c = twisted(&ideal, alpha, beta);
            let (cp, cq) = cos_phi(&c, pair);
            let ok = |x: f64| x < -0.2 && x > x_star + 0.1;
            if ok(cp) && ok(cq) && (cp - cq).abs() > 0.08 && stacking(&defaults, &top, &c) < -0.05 {
                found = Some((c, cp, cq));
                break 'scan;
            }
        }
    }
    let (c, cp, cq) = found.expect("a twisted pair with both φ factors in their quadratic region");
    let e0 = stacking(&defaults, &top, &c);
    let f5 = |a: f64, x: f64| 1.0 - a * x * x;
    for (name, x) in [("a_stack_1", cq), ("a_stack_2", cp)] {
        let a0 = defaults.value(name);
        let mut p = defaults.clone();
        p.set(name, a0 * 1.1).unwrap();
        let want = e0 * f5(a0 * 1.1, x) / f5(a0, x);
        let got = stacking(&p, &top, &c);
        assert!(
            (got - want).abs() < 1e-12 * want.abs(),
            "{name} × 1.1: stacking {got}, by hand {want} (cos φ of p {cp:.3}, of q {cq:.3})"
        );
    }
    // the switch points: moving neg_cos_phi*_star past its own cosine takes the pair out of the
    // quadratic region (into the tail, where f5 differs), while the other one changes nothing
    for (name, mine, other) in [("neg_cos_phi1_star_stack", cq, cp), ("neg_cos_phi2_star_stack", cp, cq)] {
        let mut p = defaults.clone();
        p.set(name, (mine + other) / 2.0).unwrap();
        let moved = stacking(&p, &top, &c);
        let outside = mine < (mine + other) / 2.0;
        assert_eq!(
            (moved - e0).abs() > 1e-9 * e0.abs(),
            outside,
            "{name} = {:.3} with cos φ {mine:.3} (other {other:.3}): stacking {moved} vs {e0}",
            (mine + other) / 2.0
        );
    }
}

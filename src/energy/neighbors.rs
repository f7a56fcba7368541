//! Candidate non-bonded pairs: every pair of centres closer than a cut-off, found with a cell list
//! in O(N) when the box holds at least three cells per side, else by checking all pairs.

use crate::geometry::{PeriodicBox, Vec3};

/// All pairs `(i, j)`, `i < j`, whose minimum-image centre distance is below `cutoff`, each once,
/// in an order that depends only on the positions.
///
/// Three strategies, chosen by the density: all pairs for small systems; a cell list when the
/// box holds at least three cells per side and not many more cells than nucleotides; otherwise
/// (a long duplex in a big box) a sweep along the axis of largest spread, which only compares
/// nucleotides within `cutoff` of each other along that axis.
#[must_use]
pub fn pairs_within(r: &[Vec3], bx: &PeriodicBox, cutoff: f64) -> Vec<(usize, usize)> {
    let n = r.len();
    let sides = bx.sides();
    let cells: [usize; 3] = std::array::from_fn(|k| (sides[k] / cutoff).floor().clamp(1.0, 1e6) as usize);
    let total: usize = cells.iter().product();
    if n < 64 {
        all_pairs(r, bx, cutoff)
    } else if cells.iter().all(|&c| c >= 3) && total <= 8 * n + 4096 {
        cell_list(r, bx, cutoff, cells)
    } else {
        sweep(r, bx, cutoff)
    }
}

fn all_pairs(r: &[Vec3], bx: &PeriodicBox, cutoff: f64) -> Vec<(usize, usize)> {
    let c2 = cutoff * cutoff;
    let mut out = Vec::new();
    for i in 0..r.len() {
        for j in i + 1..r.len() {
            if bx.min_image(r[j] - r[i]).norm2() < c2 {
                out.push((i, j));
            }
        }
    }
    out
}

/// A cell list with a table of every cell (≥ 3 cells per side, so no pair is found twice).
fn cell_list(r: &[Vec3], bx: &PeriodicBox, cutoff: f64, cells: [usize; 3]) -> Vec<(usize, usize)> {
    let c2 = cutoff * cutoff;
    let sides = bx.sides();
    let cell_of = |p: Vec3| -> [usize; 3] {
        std::array::from_fn(|k| {
            let f = (p[k] / sides[k]).rem_euclid(1.0);
            ((f * cells[k] as f64) as usize).min(cells[k] - 1)
        })
    };
    let index = |c: [usize; 3]| (c[0] * cells[1] + c[1]) * cells[2] + c[2];
    let total: usize = cells.iter().product();
    // nucleotides sorted by cell, and each cell's range in that order
    let mut order: Vec<(usize, usize)> = r.iter().enumerate().map(|(i, &p)| (index(cell_of(p)), i)).collect();
    order.sort_unstable();
    let mut table = vec![(0usize, 0usize); total];
    for (k, &(c, _)) in order.iter().enumerate() {
        if k == 0 || order[k - 1].0 != c {
            table[c].0 = k;
        }
        table[c].1 = k + 1;
    }
    in_order(r.len(), |i, out| {
        let p = r[i];
        let c = cell_of(p);
        for dx in [cells[0] - 1, 0, 1] {
            for dy in [cells[1] - 1, 0, 1] {
                for dz in [cells[2] - 1, 0, 1] {
                    let nc = [(c[0] + dx) % cells[0], (c[1] + dy) % cells[1], (c[2] + dz) % cells[2]];
                    let (a, b) = table[index(nc)];
                    for &(_, j) in &order[a..b] {
                        if j > i && bx.min_image(r[j] - p).norm2() < c2 {
                            out.push((i, j));
                        }
                    }
                }
            }
        }
    })
}

/// Sweep along the axis of largest spread: positions are wrapped into the box along it and
/// sorted; each nucleotide is compared with those that follow within `cutoff` (and, across the
/// periodic boundary, with the first ones).
fn sweep(r: &[Vec3], bx: &PeriodicBox, cutoff: f64) -> Vec<(usize, usize)> {
    let c2 = cutoff * cutoff;
    let sides = bx.sides();
    let spread = |k: usize| {
        let (lo, hi) = r.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p[k]), b.max(p[k])));
        (hi - lo).min(sides[k])
    };
    let axis = (0..3).max_by(|&a, &b| spread(a).total_cmp(&spread(b))).unwrap_or(0);
    let l = sides[axis];
    if l < 2.0 * cutoff {
        // a pair could be reached both ways round: compare every pair instead
        return all_pairs(r, bx, cutoff);
    }
    let mut order: Vec<(f64, usize)> = r.iter().enumerate().map(|(i, p)| (p[axis].rem_euclid(l), i)).collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let n = order.len();
    let from = |a: usize, out: &mut Vec<(usize, usize)>| {
        let (xa, i) = order[a];
        let mut push = |j: usize| {
            if bx.min_image(r[j] - r[i]).norm2() < c2 {
                out.push(if i < j { (i, j) } else { (j, i) });
            }
        };
        // forwards within the box
        let mut b = a + 1;
        while b < n && order[b].0 - xa < cutoff {
            push(order[b].1);
            b += 1;
        }
        // across the boundary: the first ones, shifted by one box, not already reached
        if b == n {
            let mut w = 0;
            while w < a && order[w].0 + l - xa < cutoff {
                push(order[w].1);
                w += 1;
            }
        }
    };
    in_order(n, from)
}

/// Runs `from(a, out)` for a = 0…n−1 and concatenates the outputs in that order: in parallel
/// when called from inside a thread pool (an MD run on several threads), the same list either way.
fn in_order(n: usize, from: impl Fn(usize, &mut Vec<(usize, usize)>) + Sync) -> Vec<(usize, usize)> {
    if rayon::current_thread_index().is_some() && rayon::current_num_threads() > 1 && n >= 512 {
        use rayon::prelude::*;
        const CHUNK: usize = 128;
        let parts: Vec<Vec<(usize, usize)>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut out = Vec::new();
                for a in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    from(a, &mut out);
                }
                out
            })
            .collect();
        parts.concat()
    } else {
        let mut out = Vec::new();
        for a in 0..n {
            from(a, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair closer than `cutoff`, by checking all of them (the definition).
    fn brute(r: &[Vec3], bx: &PeriodicBox, cutoff: f64) -> Vec<(usize, usize)> {
        (0..r.len())
            .flat_map(|i| (i + 1..r.len()).map(move |j| (i, j)))
            .filter(|&(i, j)| bx.min_image(r[j] - r[i]).norm() < cutoff)
            .collect()
    }

    /// `pairs_within` finds exactly the pairs closer than `cutoff`, each once, and the same list
    /// in the same order on two threads.
    fn check(r: &[Vec3], bx: &PeriodicBox, cutoff: f64) -> usize {
        let list = pairs_within(r, bx, cutoff);
        let mut sorted = list.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, brute(r, bx, cutoff));
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        assert_eq!(pool.install(|| pairs_within(r, bx, cutoff)), list, "the order depends on the thread count");
        list.len()
    }

    fn scatter(n: usize, seed: u64, lo: Vec3, span: Vec3) -> Vec<Vec3> {
        let mut s = seed;
        let mut rnd = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n).map(|_| Vec3::new(lo[0] + rnd() * span[0], lo[1] + rnd() * span[1], lo[2] + rnd() * span[2])).collect()
    }

    #[test]
    fn every_strategy_finds_exactly_the_pairs_within_the_cut_off() {
        // cell list: 600 points in a box of side 12, some outside the box (wrapped)
        let bx = PeriodicBox::new(Vec3::new(12.0, 12.0, 12.0));
        let r = scatter(600, 12345, Vec3::new(-9.0, 0.0, 0.0), Vec3::new(30.0, 12.0, 12.0));
        assert!(check(&r, &bx, 2.5) > 1000);
        // fewer than 64: all pairs, across the boundary too
        assert!(check(&r[..60], &bx, 4.0) > 100);
        // a box of fewer than three cells per side: the sweep, not the cell list
        let small = PeriodicBox::new(Vec3::new(6.0, 6.0, 6.0));
        assert!(check(&scatter(200, 7, Vec3::ZERO, Vec3::new(6.0, 6.0, 6.0)), &small, 2.5) > 1000);
        // a long chain in a huge box: the sweep, which must also close the ring across the
        // periodic boundary along its axis (a chain longer than the box side 50)
        let ring: Vec<Vec3> = (0..600).map(|k| Vec3::new(k as f64 * 0.1 - 5.0, 0.3 * (k as f64).sin(), 5.0)).collect();
        let long = PeriodicBox::new(Vec3::new(50.0, 1000.0, 1000.0));
        let n = check(&ring, &long, 1.5);
        assert!(brute(&ring, &long, 1.5).iter().any(|&(i, j)| j - i > 400), "pairs across the boundary");
        assert!(n > 5000);
        // the sweep's axis is 2 cut-offs long or less: every pair both ways round
        let short = PeriodicBox::new(Vec3::new(2.9, 1000.0, 1000.0));
        let r = scatter(300, 3, Vec3::new(0.0, 0.0, 0.0), Vec3::new(2.9, 2.0, 2.0));
        assert!(check(&r, &short, 1.5) > 300);
        // a cut-off longer than 2 and a sweep axis just under 2 cut-offs: still every pair once
        let narrow = PeriodicBox::new(Vec3::new(4.6, 1000.0, 1000.0));
        let r = scatter(200, 5, Vec3::ZERO, Vec3::new(4.6, 2.0, 2.0));
        assert!(check(&r, &narrow, 2.5) > 1000);
        // a box of 9 with a cut-off of 5 has one cell per side, not four of 9/4
        let nine = PeriodicBox::new(Vec3::new(9.0, 9.0, 9.0));
        assert!(check(&scatter(100, 9, Vec3::ZERO, Vec3::new(9.0, 9.0, 9.0)), &nine, 5.0) > 1000);
        // the sweep along another axis, in a chain that leaves the box
        let line: Vec<Vec3> = (0..500).map(|k| Vec3::new(5.0, 0.3 * (k as f64).cos(), k as f64 * 0.4 - 30.0)).collect();
        let huge = PeriodicBox::new(Vec3::new(1000.0, 1000.0, 150.0));
        assert!(check(&line, &huge, 1.5) > 1000);
    }
}

//! Candidate non-bonded pairs: every pair of centres closer than a cut-off, found with a cell list
//! in O(N) when the box holds at least three cells per side, else by checking all pairs.

use crate::geometry::{PeriodicBox, Vec3};

/// All pairs `(i, j)`, `i < j`, whose minimum-image centre distance is below `cutoff`, sorted.
#[must_use]
pub fn pairs_within(r: &[Vec3], bx: &PeriodicBox, cutoff: f64) -> Vec<(usize, usize)> {
    let n = r.len();
    let c2 = cutoff * cutoff;
    let sides = bx.sides();
    let cells: [usize; 3] = std::array::from_fn(|k| (sides[k] / cutoff).floor().clamp(1.0, 1e6) as usize);
    let mut out = Vec::new();
    if n < 64 || cells.iter().any(|&c| c < 3) {
        for i in 0..n {
            for j in i + 1..n {
                if bx.min_image(r[j] - r[i]).norm2() < c2 {
                    out.push((i, j));
                }
            }
        }
        return out;
    }
    let cell_of = |p: Vec3| -> [usize; 3] {
        std::array::from_fn(|k| {
            let f = (p[k] / sides[k]).rem_euclid(1.0);
            ((f * cells[k] as f64) as usize).min(cells[k] - 1)
        })
    };
    let index = |c: [usize; 3]| (c[0] * cells[1] + c[1]) * cells[2] + c[2];
    let total: usize = cells.iter().product();
    // occupied cells, sorted by index: (cell index, first, end) into `order`
    let mut order: Vec<(usize, usize)> = r.iter().enumerate().map(|(i, &p)| (index(cell_of(p)), i)).collect();
    order.sort_unstable();
    let mut occupied: Vec<(usize, usize, usize)> = Vec::new();
    for (k, &(c, _)) in order.iter().enumerate() {
        match occupied.last_mut() {
            Some(last) if last.0 == c => last.2 = k + 1,
            _ => occupied.push((c, k, k + 1)),
        }
    }
    // a dense table when the box holds few cells per nucleotide, else binary search (sparse
    // systems in big boxes: a long duplex in a cubic box)
    let dense = (total <= 8 * n + 4096).then(|| {
        let mut table = vec![(0usize, 0usize); total];
        for &(c, a, b) in &occupied {
            table[c] = (a, b);
        }
        table
    });
    let members = |c: usize| -> (usize, usize) {
        match &dense {
            Some(t) => t[c],
            None => occupied.binary_search_by_key(&c, |o| o.0).map_or((0, 0), |k| (occupied[k].1, occupied[k].2)),
        }
    };
    for (i, &p) in r.iter().enumerate() {
        let c = cell_of(p);
        for dx in [cells[0] - 1, 0, 1] {
            for dy in [cells[1] - 1, 0, 1] {
                for dz in [cells[2] - 1, 0, 1] {
                    let nc = [(c[0] + dx) % cells[0], (c[1] + dy) % cells[1], (c[2] + dz) % cells[2]];
                    let (a, b) = members(index(nc));
                    for &(_, j) in &order[a..b] {
                        if j > i && bx.min_image(r[j] - p).norm2() < c2 {
                            out.push((i, j));
                        }
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_list_agrees_with_all_pairs() {
        // a deterministic scatter of 300 points in a box of side 12, some outside the box
        let mut s = 12345u64;
        let mut rnd = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let r: Vec<Vec3> = (0..300).map(|_| Vec3::new(rnd() * 30.0 - 9.0, rnd() * 12.0, rnd() * 12.0)).collect();
        let bx = PeriodicBox(Vec3::new(12.0, 12.0, 12.0));
        let fast = pairs_within(&r, &bx, 2.5);
        let mut slow = Vec::new();
        for i in 0..r.len() {
            for j in i + 1..r.len() {
                if bx.min_image(r[j] - r[i]).norm() < 2.5 {
                    slow.push((i, j));
                }
            }
        }
        assert_eq!(fast, slow);
        assert!(fast.len() > 100);
        // sparse: a long chain in a huge box takes the binary-search path
        let line: Vec<Vec3> = (0..500).map(|k| Vec3::new(k as f64 * 0.4, 0.3 * (k as f64).sin(), 5.0)).collect();
        let huge = PeriodicBox(Vec3::new(1000.0, 1000.0, 1000.0));
        let fast = pairs_within(&line, &huge, 1.5);
        let slow: Vec<(usize, usize)> = (0..500)
            .flat_map(|i| (i + 1..500).map(move |j| (i, j)))
            .filter(|&(i, j)| huge.min_image(line[j] - line[i]).norm() < 1.5)
            .collect();
        assert_eq!(fast, slow);
    }
}

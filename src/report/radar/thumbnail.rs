//! The small radar of a portfolio row: rings, spokes and the score polygon, no labels, so
//! that a broker sees a client's shape at a glance. Written directly (a few hundred bytes,
//! a few microseconds), because a page shows up to a hundred of them.

use std::fmt::Write;

use super::escape;

/// Width and height in CSS pixels.
pub const SIZE: f64 = 56.0;
const RADIUS: f64 = 24.0;

/// The point of axis `i` of `n` at `score` (0 to 100), clockwise from the top.
fn point(i: usize, n: usize, score: f64) -> (f64, f64) {
    let angle = std::f64::consts::TAU * i as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
    let r = RADIUS * score.clamp(0.0, 100.0) / 100.0;
    (SIZE / 2.0 + r * angle.cos(), SIZE / 2.0 + r * angle.sin())
}

fn polygon(n: usize, score: impl Fn(usize) -> f64) -> String {
    let mut points = String::new();
    for i in 0..n {
        let (x, y) = point(i, n, score(i));
        let _ = write!(points, "{}{x:.1},{y:.1}", if i == 0 { "" } else { " " });
    }
    points
}

/// An SVG of the domain scores (`None`: not assessed, drawn at 0), with `title` as its
/// accessible name. Fewer than three domains draw no polygon, only the rings.
pub fn thumbnail(scores: &[Option<f64>], title: &str) -> String {
    let n = scores.len();
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="thumb" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" role="img"><title>{}</title>"#,
        escape(title)
    );
    if n >= 3 {
        for ring in [50.0, 100.0] {
            let _ = write!(
                svg,
                r##"<polygon points="{}" fill="none" stroke="#c8cfd8" stroke-width="1"/>"##,
                polygon(n, |_| ring)
            );
        }
        let _ = write!(
            svg,
            r##"<polygon points="{}" fill="#1f5fa8" fill-opacity="0.3" stroke="#1f5fa8" stroke-width="1.5" stroke-linejoin="round"/>"##,
            polygon(n, |i| scores[i].unwrap_or(0.0))
        );
    } else {
        let _ = write!(
            svg,
            r##"<circle cx="{c}" cy="{c}" r="{RADIUS}" fill="none" stroke="#c8cfd8"/>"##,
            c = SIZE / 2.0
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_score_reaches_the_outer_ring_and_titles_are_escaped() {
        let svg = thumbnail(&[Some(100.0), Some(100.0), Some(100.0)], "<A&B>");
        assert!(svg.contains("<title>&lt;A&amp;B&gt;</title>"));
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        let polygons: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("polygon"))
            .map(|n| n.attribute("points").unwrap().to_string())
            .collect();
        assert_eq!(polygons.len(), 3);
        assert_eq!(polygons[1], polygons[2], "100 everywhere is the outer ring");
    }

    #[test]
    fn out_of_range_and_missing_scores_stay_inside_the_chart() {
        let svg = thumbnail(&[Some(250.0), None, Some(-5.0), Some(50.0)], "x");
        for n in roxmltree::Document::parse(&svg)
            .unwrap()
            .descendants()
            .filter(|n| n.has_tag_name("polygon"))
        {
            for xy in n.attribute("points").unwrap().split(' ') {
                let (x, y) = xy.split_once(',').unwrap();
                for v in [x, y] {
                    let v: f64 = v.parse().unwrap();
                    assert!((0.0..=SIZE).contains(&v));
                }
            }
        }
    }
}

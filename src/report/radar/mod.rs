//! The radar chart: one axis per domain, rings at 20 to 100, the scores as a filled
//! polygon and an optional second series, drawn with plotters' SVG backend.
//!
//! plotters without fonts cannot measure text, so labels are laid out here from an
//! estimate (full-width characters about 1 em, others about 0.55 em), wrapped on two
//! lines when long (Japanese by characters, other text at a space), pushed outwards until
//! no two overlap, and the canvas is sized to fit them. Same input, same bytes.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::i18n::Lang;

/// The font stack written into the SVG.
const FONT: &str = "Noto Sans CJK JP, Noto Sans JP, Hiragino Sans, Yu Gothic, Meiryo, sans-serif";
/// Label font size in pixels, and line height.
const LABEL_PX: f64 = 13.0;
const LINE_PX: f64 = 16.0;
/// Radius of the 100 ring.
const RADIUS: f64 = 170.0;
/// Labels wider than this wrap onto a second line.
const MAX_LABEL_PX: f64 = 132.0;
const MARGIN: f64 = 16.0;
/// The least space between two labels, so that a score is never read as its neighbour's.
const LABEL_GAP: f64 = 8.0;
const RINGS: [f64; 5] = [20.0, 40.0, 60.0, 80.0, 100.0];

const INK: RGBColor = RGBColor(29, 39, 51);
const MUTED: RGBColor = RGBColor(91, 103, 118);
const GRID: RGBColor = RGBColor(200, 207, 216);
const PRIMARY: RGBColor = RGBColor(31, 95, 168);
const SECOND: RGBColor = RGBColor(214, 120, 30);

/// One axis: a domain's label and its score (`None`: not assessed).
#[derive(Debug, Clone)]
pub struct Axis<'a> {
    pub label: &'a str,
    pub score: Option<f64>,
}

/// A second series drawn dashed, with its legend name.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    pub name: &'a str,
    pub values: &'a [Option<f64>],
}

/// What the chart shows.
#[derive(Debug, Clone)]
pub struct Radar<'a> {
    pub lang: Lang,
    pub axes: Vec<Axis<'a>>,
    /// The legend name of the scores.
    pub name: &'a str,
    pub second: Option<Series<'a>>,
}

/// Estimated width of a text at `px` pixels.
pub fn text_width(text: &str, px: f64) -> f64 {
    text.chars()
        .map(|c| if is_wide(c) { 1.0 } else { 0.55 })
        .sum::<f64>()
        * px
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

/// Splits a label into at most two lines that fit, breaking at a space for text that has
/// spaces and between characters for text that has none (Japanese).
pub fn wrap(label: &str, max_px: f64, px: f64) -> Vec<String> {
    if text_width(label, px) <= max_px {
        return vec![label.to_string()];
    }
    let chars: Vec<char> = label.chars().collect();
    let total = text_width(label, px);
    // Candidate break positions: after a space, or (no spaces) between any characters,
    // preferring after a Japanese separator.
    let has_space = label.contains(' ');
    let mut best: Option<(f64, usize)> = None;
    let mut width = 0.0;
    for i in 0..chars.len() {
        width += text_width(&chars[i].to_string(), px);
        let breakable = if has_space {
            chars[i] == ' '
        } else {
            i + 1 < chars.len()
        };
        if !breakable {
            continue;
        }
        let mut cost = (width - total / 2.0).abs();
        // Prefer breaking after a separator; never start a line with a character that
        // Japanese line breaking keeps at the end of the previous one (kinsoku).
        if !has_space && matches!(chars[i], '・' | '、' | '/' | '&' | ')' | '\u{ff09}') {
            cost -= px * 3.0;
        }
        if !has_space
            && chars
                .get(i + 1)
                .is_some_and(|c| "・、。)）」ーッャュョァィゥェォっゃゅょぁぃぅぇぉ".contains(*c))
        {
            cost += px * 4.0;
        }
        // A change of script (kanji, katakana, hiragana) is where Japanese words meet:
        // クラウドサービス|設定, 機器の|セキュリティ.
        if !has_space {
            let next = chars.get(i + 1).and_then(|c| script(*c));
            if let (Some(a), Some(b)) = (script(chars[i]), next) {
                if a != b {
                    cost -= px * 2.5;
                }
            }
        }
        if best.is_none_or(|(c, _)| cost < c) {
            best = Some((cost, i + 1));
        }
    }
    match best {
        Some((_, at)) => {
            let first: String = chars[..at]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_string();
            let second: String = chars[at..]
                .iter()
                .collect::<String>()
                .trim_start()
                .to_string();
            vec![first, second]
        }
        None => vec![label.to_string()],
    }
}

/// The Japanese script of a character: 0 kanji, 1 katakana, 2 hiragana.
fn script(c: char) -> Option<u8> {
    match c as u32 {
        0x4E00..=0x9FFF | 0x3400..=0x4DBF => Some(0),
        0x30A0..=0x30FF => Some(1),
        0x3041..=0x309F => Some(2),
        _ => None,
    }
}

/// A placed label block.
#[derive(Debug, Clone)]
struct Label {
    lines: Vec<(String, bool)>,
    /// Unit vector of the axis.
    ux: f64,
    uy: f64,
    distance: f64,
    width: f64,
    height: f64,
}

impl Label {
    fn anchor(&self) -> HPos {
        if self.ux > 0.2 {
            HPos::Left
        } else if self.ux < -0.2 {
            HPos::Right
        } else {
            HPos::Center
        }
    }

    /// Bounding box (x0, y0, x1, y1) relative to the centre.
    fn bbox(&self) -> (f64, f64, f64, f64) {
        let (px, py) = (self.ux * self.distance, self.uy * self.distance);
        let x0 = match self.anchor() {
            HPos::Left => px,
            HPos::Right => px - self.width,
            HPos::Center => px - self.width / 2.0,
        };
        let y0 = if self.uy < -0.2 {
            py - self.height
        } else if self.uy > 0.2 {
            py
        } else {
            py - self.height / 2.0
        };
        (x0, y0, x0 + self.width, y0 + self.height)
    }
}

fn overlaps(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64), pad: f64) -> bool {
    a.0 < b.2 + pad && b.0 < a.2 + pad && a.1 < b.3 + pad && b.1 < a.3 + pad
}

fn unit(i: usize, n: usize) -> (f64, f64) {
    let angle = std::f64::consts::TAU * i as f64 / n as f64;
    (angle.sin(), -angle.cos())
}

/// Lays the labels out so that none overlaps another or the rings.
fn layout(radar: &Radar) -> Vec<Label> {
    let ui = radar.lang.ui();
    let n = radar.axes.len();
    let mut labels: Vec<Label> = radar
        .axes
        .iter()
        .enumerate()
        .map(|(i, axis)| {
            let (ux, uy) = unit(i, n);
            let mut lines: Vec<(String, bool)> = wrap(axis.label, MAX_LABEL_PX, LABEL_PX)
                .into_iter()
                .map(|l| (l, false))
                .collect();
            lines.push(match axis.score {
                Some(s) => (crate::scoring::format1(s), true),
                None => (ui.not_assessed.to_string(), true),
            });
            let width = lines
                .iter()
                .map(|(l, _)| text_width(l, LABEL_PX))
                .fold(0.0, f64::max);
            Label {
                lines: lines.clone(),
                ux,
                uy,
                distance: RADIUS + 12.0,
                width,
                height: lines.len() as f64 * LINE_PX,
            }
        })
        .collect();
    // Push overlapping neighbours outwards until none overlaps.
    for _ in 0..80 {
        let mut moved = false;
        for i in 0..n {
            for j in (i + 1)..n {
                if overlaps(labels[i].bbox(), labels[j].bbox(), LABEL_GAP) {
                    labels[i].distance += 3.0;
                    labels[j].distance += 3.0;
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
    labels
}

/// The chart as an SVG document.
pub fn svg(radar: &Radar) -> String {
    let ui = radar.lang.ui();
    let labels = layout(radar);
    let n = radar.axes.len().max(1);

    // The canvas fits the rings, the labels and the legend.
    let (mut x0, mut y0, mut x1, mut y1) = (-RADIUS, -RADIUS, RADIUS, RADIUS);
    for l in &labels {
        let b = l.bbox();
        x0 = x0.min(b.0);
        y0 = y0.min(b.1);
        x1 = x1.max(b.2);
        y1 = y1.max(b.3);
    }
    let legend_h = 28.0;
    // The legend: a swatch and a name per series, on one row that must fit too.
    let legend_w = 26.0
        + text_width(radar.name, 12.0)
        + radar
            .second
            .as_ref()
            .map_or(0.0, |s| 24.0 + 30.0 + text_width(s.name, 12.0));
    let width = (x1 - x0 + 2.0 * MARGIN).max(legend_w + 2.0 * MARGIN).ceil();
    // Centre the chart when the legend made the canvas wider.
    let x0 = x0 - ((width - 2.0 * MARGIN) - (x1 - x0)) / 2.0;
    let height = (y1 - y0 + 2.0 * MARGIN + legend_h).ceil();
    let (cx, cy) = (MARGIN - x0, MARGIN - y0);
    let at = |r: f64, i: usize| -> (i32, i32) {
        let (ux, uy) = unit(i, n);
        ((cx + r * ux).round() as i32, (cy + r * uy).round() as i32)
    };

    let mut out = String::new();
    {
        let root =
            SVGBackend::with_string(&mut out, (width as u32, height as u32)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let font = |px: f64, bold: bool, color: &'static RGBColor, h: HPos| {
            let style = if bold {
                FontStyle::Bold
            } else {
                FontStyle::Normal
            };
            TextStyle::from((FONT, px * 1.24, style).into_font())
                .color(color)
                .pos(Pos::new(h, VPos::Center))
        };

        // Rings, with their values between the first two axes, where no data line runs.
        let (vx, vy) = {
            let angle = std::f64::consts::PI / n as f64;
            (angle.sin(), -angle.cos())
        };
        for ring in RINGS {
            let r = RADIUS * ring / 100.0;
            let mut points: Vec<(i32, i32)> = (0..n).map(|i| at(r, i)).collect();
            points.push(points[0]);
            let _ = root.draw(&PathElement::new(points, GRID.stroke_width(1)));
        }
        for ring in RINGS {
            // On the ring's edge halfway between the axes (closer in than its corners).
            let r = RADIUS * ring / 100.0 * (std::f64::consts::PI / n as f64).cos() - 6.0;
            let _ = root.draw(&Text::new(
                format!("{ring:.0}"),
                ((cx + r * vx).round() as i32, (cy + r * vy).round() as i32),
                font(9.0, false, &MUTED, HPos::Center),
            ));
        }
        for i in 0..n {
            let _ = root.draw(&PathElement::new(
                vec![at(0.0, i), at(RADIUS, i)],
                GRID.stroke_width(1),
            ));
        }

        // The second series, dashed.
        if let Some(second) = &radar.second {
            let mut points: Vec<(i32, i32)> = second
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| at(RADIUS * v.clamp(0.0, 100.0) / 100.0, i)))
                .collect();
            if let Some(&first) = points.first() {
                points.push(first);
            }
            let _ = root.draw(&PathElement::new(points.clone(), SECOND.stroke_width(2)));
            for p in points.iter().take(points.len().saturating_sub(1)) {
                let _ = root.draw(&Rectangle::new(
                    [(p.0 - 3, p.1 - 3), (p.0 + 3, p.1 + 3)],
                    SECOND.filled(),
                ));
            }
        }

        // The scores: a filled polygon with one vertex per axis, its outline and a dot per
        // vertex. A not-assessed domain's vertex is the centre, marked hollow, and its
        // label says so.
        let points: Vec<(i32, i32)> = radar
            .axes
            .iter()
            .enumerate()
            .map(|(i, a)| at(RADIUS * a.score.unwrap_or(0.0).clamp(0.0, 100.0) / 100.0, i))
            .collect();
        if !points.is_empty() {
            let _ = root.draw(&Polygon::new(points.clone(), PRIMARY.mix(0.22).filled()));
            let mut outline = points.clone();
            outline.push(points[0]);
            let _ = root.draw(&PathElement::new(outline, PRIMARY.stroke_width(2)));
            for (p, a) in points.iter().zip(&radar.axes) {
                let style = match a.score {
                    Some(_) => PRIMARY.filled(),
                    None => WHITE.filled(),
                };
                let _ = root.draw(&Circle::new(*p, 4, style));
                if a.score.is_none() {
                    let _ = root.draw(&Circle::new(*p, 4, MUTED.stroke_width(2)));
                }
            }
        }

        // Labels.
        for l in &labels {
            let (bx0, by0, _, _) = l.bbox();
            let x = match l.anchor() {
                HPos::Left => bx0,
                HPos::Right => bx0 + l.width,
                HPos::Center => bx0 + l.width / 2.0,
            };
            for (k, (line, bold)) in l.lines.iter().enumerate() {
                let y = by0 + LINE_PX * (k as f64 + 0.5);
                let color: &'static RGBColor = if *bold { &PRIMARY } else { &INK };
                let _ = root.draw(&Text::new(
                    line.clone(),
                    ((cx + x).round() as i32, (cy + y).round() as i32),
                    font(LABEL_PX, *bold, color, l.anchor()),
                ));
            }
        }

        // Legend.
        let ly = (height - MARGIN - 8.0) as i32;
        let mut lx = MARGIN as i32;
        let _ = root.draw(&Rectangle::new(
            [(lx, ly - 6), (lx + 18, ly + 6)],
            PRIMARY.mix(0.22).filled(),
        ));
        let _ = root.draw(&Rectangle::new(
            [(lx, ly - 6), (lx + 18, ly + 6)],
            PRIMARY.stroke_width(2),
        ));
        let _ = root.draw(&Text::new(
            radar.name.to_string(),
            (lx + 26, ly),
            font(12.0, false, &INK, HPos::Left),
        ));
        lx += 26 + text_width(radar.name, 12.0).ceil() as i32 + 24;
        if let Some(second) = &radar.second {
            let _ = root.draw(&PathElement::new(
                vec![(lx, ly), (lx + 22, ly)],
                SECOND.stroke_width(2),
            ));
            let _ = root.draw(&Text::new(
                second.name.to_string(),
                (lx + 30, ly),
                font(12.0, false, &INK, HPos::Left),
            ));
        }
        let _ = root.present();
    }

    // plotters draws dashes as one element per dash; a real dash pattern is smaller,
    // faster and crisper. Only the second series is stroked in its colour.
    let second_stroke = format!(
        "stroke=\"#{:02X}{:02X}{:02X}\"",
        SECOND.0, SECOND.1, SECOND.2
    );
    let out = out.replace(
        &second_stroke,
        &format!("{second_stroke} stroke-dasharray=\"6 4\""),
    );

    // plotters writes font sizes divided by 1.24 with float noise ("13.000000000000002").
    let out = tidy_font_sizes(&out);

    // Accessible name and description: every value of every series.
    let series = |name: &str, values: &mut dyn Iterator<Item = Option<f64>>| {
        let mut d = format!("{name}: ");
        for (i, (a, v)) in radar.axes.iter().zip(values).enumerate() {
            if i > 0 {
                d.push_str(ui.list_separator);
            }
            d.push_str(a.label);
            d.push(' ');
            match v {
                Some(s) => d.push_str(&crate::scoring::format1(s)),
                None => d.push_str(ui.not_assessed),
            }
        }
        d
    };
    let mut desc = series(radar.name, &mut radar.axes.iter().map(|a| a.score));
    if let Some(second) = &radar.second {
        desc.push_str(". ");
        desc.push_str(&series(second.name, &mut second.values.iter().copied()));
    }
    let head = "<svg role=\"img\" ";
    let a11y = format!(
        "<title>{}</title>\n<desc>{}</desc>\n",
        escape(ui.radar_title),
        escape(&desc)
    );
    match out.find('>') {
        Some(end) if out.starts_with("<svg ") => {
            let mut doc = String::with_capacity(out.len() + a11y.len() + 16);
            doc.push_str(head);
            doc.push_str(&out[5..=end]);
            doc.push('\n');
            doc.push_str(&a11y);
            doc.push_str(&out[end + 1..]);
            doc
        }
        _ => out,
    }
}

/// Rounds every `font-size="..."` attribute to two decimals.
fn tidy_font_sizes(svg: &str) -> String {
    const ATTR: &str = "font-size=\"";
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(at) = rest.find(ATTR) {
        let (head, tail) = rest.split_at(at + ATTR.len());
        out.push_str(head);
        let end = tail.find('"').unwrap_or(tail.len());
        match tail[..end].parse::<f64>() {
            Ok(v) => {
                let s = format!("{v:.2}");
                out.push_str(s.trim_end_matches('0').trim_end_matches('.'));
            }
            Err(_) => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// XML escaping for text we write ourselves.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

mod thumbnail;
pub use thumbnail::thumbnail;

#[cfg(test)]
mod tests;

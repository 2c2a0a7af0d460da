use super::*;

fn radar<'a>(
    labels: &'a [&'a str],
    scores: &[Option<f64>],
    second: Option<&'a [Option<f64>]>,
    lang: Lang,
) -> String {
    let axes = labels
        .iter()
        .zip(scores)
        .map(|(l, s)| Axis {
            label: l,
            score: *s,
        })
        .collect();
    svg(&Radar {
        lang,
        axes,
        name: "Your company",
        second: second.map(|values| Series {
            name: "Peer average (n=7)",
            values,
        }),
    })
}

fn points(attr: &str) -> Vec<(f64, f64)> {
    attr.split_whitespace()
        .filter_map(|p| {
            let (x, y) = p.split_once(',')?;
            Some((x.parse().ok()?, y.parse().ok()?))
        })
        .collect()
}

/// The centre and the axis end points: two-point polylines that start at one shared point.
fn axes_of(doc: &roxmltree::Document) -> ((f64, f64), Vec<(f64, f64)>) {
    let lines: Vec<Vec<(f64, f64)>> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| points(n.attribute("points").unwrap_or("")))
        .filter(|p| p.len() == 2)
        .collect();
    let centre = lines[0][0];
    let ends = lines
        .iter()
        .filter(|l| l[0] == centre)
        .map(|l| l[1])
        .collect();
    (centre, ends)
}

const NINE: [&str; 9] = [
    "ガバナンス・認証",
    "アクセス管理",
    "データ保護・復旧",
    "マルウェア・脆弱性",
    "開発・テスト",
    "可用性・キャパシティ",
    "インシデント対応・事業継続",
    "契約・責任管理",
    "コンテンツ・知財",
];

#[test]
fn one_axis_per_domain_and_vertices_at_the_radii_the_scores_imply() {
    for n in [3usize, 5, 9, 16] {
        let labels: Vec<String> = (0..n).map(|i| format!("Domain {i}")).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let scores: Vec<Option<f64>> = (0..n)
            .map(|i| Some(10.0 + 90.0 * i as f64 / n as f64))
            .collect();
        let svg = radar(&labels, &scores, None, Lang::En);
        let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
        let (centre, ends) = axes_of(&doc);
        assert_eq!(ends.len(), n, "one axis per domain");
        // The first axis points straight up.
        assert!((ends[0].0 - centre.0).abs() <= 1.0 && ends[0].1 < centre.1);
        let polygon = doc
            .descendants()
            .find(|n| n.has_tag_name("polygon"))
            .expect("data polygon");
        let vertices = points(polygon.attribute("points").unwrap());
        assert_eq!(vertices.len(), n);
        for (v, s) in vertices.iter().zip(&scores) {
            let r = ((v.0 - centre.0).powi(2) + (v.1 - centre.1).powi(2)).sqrt();
            let expected = RADIUS * s.unwrap() / 100.0;
            assert!(
                (r - expected).abs() <= 1.5,
                "vertex at {r}, expected {expected}"
            );
        }
    }
}

#[test]
fn the_chart_has_a_title_a_description_and_escapes_every_text() {
    let labels = ["<script>alert(1)</script>", "Tom & \"Jerry\"", "O'Brien"];
    let svg = radar(&labels, &[Some(50.0), None, Some(20.0)], None, Lang::En);
    assert!(!svg.contains("<script>"));
    assert!(svg.contains("&lt;script&gt;"));
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let root = doc.root_element();
    assert_eq!(root.attribute("role"), Some("img"));
    let title = root.children().find(|n| n.has_tag_name("title")).unwrap();
    assert_eq!(
        title.text(),
        Some("Level of risk controls by control domain")
    );
    let desc = root
        .children()
        .find(|n| n.has_tag_name("desc"))
        .unwrap()
        .text()
        .unwrap();
    assert!(desc.contains("<script>alert(1)</script> 50.0"), "{desc}");
    assert!(desc.contains("Tom & \"Jerry\" Not assessed"), "{desc}");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert!(texts.iter().any(|t| t.trim() == "Tom & \"Jerry\""));
}

#[test]
fn a_not_assessed_domain_is_named_and_marked_hollow_at_the_centre() {
    let svg = radar(&NINE[..3], &[Some(80.0), None, Some(40.0)], None, Lang::Ja);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert!(doc
        .descendants()
        .any(|n| n.has_tag_name("text") && n.text().is_some_and(|t| t.trim() == "未評価")));
    let (centre, _) = axes_of(&doc);
    let hollow: Vec<f64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("fill") == Some("none"))
        .map(|n| {
            let x: f64 = n.attribute("cx").unwrap().parse().unwrap();
            let y: f64 = n.attribute("cy").unwrap().parse().unwrap();
            ((x - centre.0).powi(2) + (y - centre.1).powi(2)).sqrt()
        })
        .collect();
    assert_eq!(hollow, [0.0]);
    // The polygon keeps one vertex per axis; the missing one sits at the centre.
    let polygon = doc
        .descendants()
        .find(|n| n.has_tag_name("polygon"))
        .unwrap();
    let vertices = points(polygon.attribute("points").unwrap());
    assert_eq!(vertices.len(), 3);
    assert_eq!(vertices[1], centre);
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let scores: Vec<Option<f64>> = (0..9).map(|i| Some(i as f64 * 11.0)).collect();
    let peers: Vec<Option<f64>> = (0..9).map(|i| Some(50.0 + i as f64)).collect();
    let a = radar(&NINE, &scores, Some(&peers), Lang::Ja);
    let b = radar(&NINE, &scores, Some(&peers), Lang::Ja);
    assert_eq!(a, b);
}

#[test]
fn long_labels_wrap_and_no_two_labels_overlap() {
    let long: Vec<String> = (0..16)
        .map(|i| {
            if i % 2 == 0 {
                format!("サプライチェーン・委託先管理{i}")
            } else {
                format!("Supply chain and subcontractor management {i}")
            }
        })
        .collect();
    let labels: Vec<&str> = long.iter().map(String::as_str).collect();
    let axes = labels
        .iter()
        .map(|l| Axis {
            label: l,
            score: Some(50.0),
        })
        .collect();
    let r = Radar {
        lang: Lang::En,
        axes,
        name: "x",
        second: None,
    };
    let placed = layout(&r);
    for l in &placed {
        assert!(l.lines.len() <= 3, "at most two label lines and the score");
    }
    for i in 0..placed.len() {
        for j in (i + 1)..placed.len() {
            assert!(
                !overlaps(placed[i].bbox(), placed[j].bbox(), 0.0),
                "labels {i} and {j} overlap"
            );
        }
        // Outside the rings.
        let b = placed[i].bbox();
        let nearest_x = 0f64.clamp(b.0, b.2);
        let nearest_y = 0f64.clamp(b.1, b.3);
        assert!(
            (nearest_x.powi(2) + nearest_y.powi(2)).sqrt() > RADIUS,
            "label {i} is inside the rings"
        );
    }
}

#[test]
fn wrapping_breaks_japanese_between_characters_and_english_at_spaces() {
    assert_eq!(wrap("アクセス管理", 132.0, 13.0), vec!["アクセス管理"]);
    let ja = wrap("サプライチェーン・委託先管理", 132.0, 13.0);
    assert_eq!(ja, vec!["サプライチェーン・", "委託先管理"]);
    let en = wrap("Supply chain and subcontractor management", 132.0, 13.0);
    assert_eq!(en.len(), 2);
    assert_eq!(en.join(" "), "Supply chain and subcontractor management");
    assert!(text_width("日本", 10.0) == 20.0 && text_width("ab", 10.0) == 11.0);
}

#[test]
fn snapshot_of_a_fixed_chart() {
    let scores = [Some(72.5), Some(40.0), None, Some(100.0), Some(0.0)];
    let peers = [Some(60.0), Some(55.0), Some(50.0), None, Some(20.0)];
    let svg = radar(&NINE[..5], &scores, Some(&peers), Lang::Ja);
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/radar-5-ja.svg");
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &svg).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        svg, expected,
        "the radar changed; review it and run with UPDATE_SNAPSHOTS=1"
    );
}

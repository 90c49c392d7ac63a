//! The dashboard's chart of the last nights, drawn on the server as SVG with `plotters`, and
//! its summary in words for screen readers.
//!
//! Readable without colour: posted documents are solid bars, failed ones hatched, skipped ones
//! hollow; the legend names each, and a night with failures carries its count above its bar.

use std::collections::HashMap;
use std::sync::Arc;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::dashboard::Night;

const WIDTH: u32 = 760;
const HEIGHT: u32 = 280;
const POSTED: RGBColor = RGBColor(0x1f, 0x7a, 0x45);
const FAILED: RGBColor = RGBColor(0xb4, 0x23, 0x18);
const FAILED_FILL: RGBColor = RGBColor(0xfd, 0xe8, 0xe6);
const SKIPPED: RGBColor = RGBColor(0x5b, 0x67, 0x78);
const WAITING: RGBColor = RGBColor(0xb2, 0x6b, 0x00);
const INK: RGBColor = RGBColor(0x1f, 0x29, 0x37);
const GRID: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
const FONT: &str = "system-ui, sans-serif";

/// Diagonal hatching inside the pixel rectangle `(x0, y0)–(x1, y1)`.
fn hatch(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let (x0, x1) = (x0.min(x1), x0.max(x1));
    let (y0, y1) = (y0.min(y1), y0.max(y1));
    let style = ShapeStyle::from(&FAILED).stroke_width(1);
    // Lines x + y = c, every 5 pixels, clipped to the rectangle.
    let mut c = x0 + y0;
    while c <= x1 + y1 {
        let lo = x0.max(c - y1);
        let hi = x1.min(c - y0);
        if lo <= hi {
            area.draw(&PathElement::new(vec![(lo, c - lo), (hi, c - hi)], style))?;
        }
        c += 5;
    }
    Ok(())
}

fn draw(svg: &mut String, nights: &[Night]) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = nights.len().max(1);
    let top = nights.iter().map(Night::total).max().unwrap_or(0).max(4);
    // Room above the tallest bar for its label.
    let y_max = (top as f64 * 1.15).ceil();
    let label = (FONT, 15).into_font().color(&INK);
    let (plot, legend) = root.split_vertically(HEIGHT - 34);
    let mut chart = ChartBuilder::on(&plot)
        .margin_top(12)
        .margin_right(12)
        .x_label_area_size(26)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..n as f64, 0f64..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(5)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_label_style(label.clone())
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(INK)
        .y_desc("Documents")
        .axis_desc_style(label.clone())
        .draw()?;

    for (i, night) in nights.iter().enumerate() {
        let (left, right) = (i as f64 + 0.15, i as f64 + 0.85);
        let mut base = 0f64;
        let segments = [
            (night.posted, 0u8),
            (night.waiting, 1),
            (night.failed, 2),
            (night.skipped, 3),
        ];
        for (count, kind) in segments {
            if count == 0 {
                continue;
            }
            let top = base + count as f64;
            let corners = [(left, top), (right, base)];
            match kind {
                0 => {
                    chart.draw_series(std::iter::once(Rectangle::new(corners, POSTED.filled())))?
                }
                1 => chart.draw_series(std::iter::once(Rectangle::new(
                    corners,
                    WAITING.mix(0.35).filled(),
                )))?,
                2 => {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        corners,
                        FAILED_FILL.filled(),
                    )))?;
                    let a = chart.backend_coord(&(left, top));
                    let b = chart.backend_coord(&(right, base));
                    hatch(&plot, a, b)?;
                    chart.draw_series(std::iter::once(Rectangle::new(
                        corners,
                        FAILED.stroke_width(1),
                    )))?
                }
                _ => chart.draw_series(std::iter::once(Rectangle::new(
                    corners,
                    SKIPPED.stroke_width(1),
                )))?,
            };
            base = top;
        }
        if night.failed > 0 {
            let at = chart.backend_coord(&(i as f64 + 0.5, base));
            plot.draw(&Text::new(
                format!("{}✕", night.failed),
                (at.0, at.1 - 3),
                label
                    .clone()
                    .color(&FAILED)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))?;
        }
        // A date under every fifth bar, and under the last.
        if i % 5 == 0 || i + 1 == nights.len() {
            let at = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            plot.draw(&Text::new(
                night.day.format("%-d %b").to_string(),
                (at.0, at.1 + 6),
                label.clone().pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
    }

    // The legend, in words, with the same marks as the bars.
    let entries: [(&str, u8); 4] = [
        ("Posted", 0),
        ("Waiting", 1),
        ("Failed (hatched, count above)", 2),
        ("Skipped (outline)", 3),
    ];
    let mut x = 52;
    let y = 10;
    for (word, kind) in entries {
        let rect = [(x, y), (x + 16, y + 14)];
        match kind {
            0 => legend.draw(&Rectangle::new(rect, POSTED.filled()))?,
            1 => legend.draw(&Rectangle::new(rect, WAITING.mix(0.35).filled()))?,
            2 => {
                legend.draw(&Rectangle::new(rect, FAILED_FILL.filled()))?;
                hatch(&legend, rect[0], rect[1])?;
                legend.draw(&Rectangle::new(rect, FAILED.stroke_width(1)))?
            }
            _ => legend.draw(&Rectangle::new(rect, SKIPPED.stroke_width(1)))?,
        }
        legend.draw(&Text::new(
            word,
            (x + 22, y + 7),
            label.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        // The naive font metrics of plotters: about 0.6 em per character at 12 px.
        x += 22 + 7 * word.len() as i32 + 28;
    }
    root.present()?;
    Ok(())
}

/// Charts drawn, by what they show: the days and each day's counts. A run, a rollback or a
/// replay that changes a night's counts, or a new night, makes a new key; an unchanged
/// integration's dashboard is served its chart without drawing it again.
type ChartKey = Vec<(chrono::NaiveDate, i64, i64, i64, i64)>;

/// Charts kept per process; past this the memory is dropped and charts are drawn again.
const CHARTS_KEPT: usize = 4_096;

/// The drawn charts. A memo of a pure function of its key, so one per process is enough (not
/// state: nothing is lost when it is dropped, and two processes never disagree).
static DRAWN: std::sync::LazyLock<std::sync::Mutex<HashMap<ChartKey, Arc<str>>>> =
    std::sync::LazyLock::new(Default::default);

/// The chart of `nights` (oldest first) as an inline SVG element, labelled for assistive
/// technology by the summary with id `chart-summary`. Drawn once per distinct set of nights
/// (see [`DRAWN`]).
pub fn nights_svg(nights: &[Night]) -> String {
    let key: ChartKey = nights
        .iter()
        .map(|n| (n.day, n.posted, n.failed, n.skipped, n.waiting))
        .collect();
    let drawn = || DRAWN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(svg) = drawn().get(&key) {
        return svg.to_string();
    }
    let svg = draw_svg(nights);
    if !svg.is_empty() {
        let mut drawn = drawn();
        if drawn.len() >= CHARTS_KEPT {
            drawn.clear();
        }
        drawn.insert(key, Arc::from(svg.as_str()));
    }
    svg
}

fn draw_svg(nights: &[Night]) -> String {
    let mut svg = String::new();
    if let Err(e) = draw(&mut svg, nights) {
        tracing::warn!(error = %e, "chart not drawn");
        return String::new();
    }
    // Scales with its container; the summary next to it says the same in words.
    svg.replacen(
        "<svg ",
        "<svg role=\"img\" aria-labelledby=\"chart-title\" aria-describedby=\"chart-summary\" class=\"chart__svg\" ",
        1,
    )
}

/// The chart in words: the period, the totals, the busiest night and every night with failures.
pub fn summary(nights: &[Night]) -> String {
    let (Some(first), Some(last)) = (nights.first(), nights.last()) else {
        return String::new();
    };
    let sum = |f: fn(&Night) -> i64| nights.iter().map(f).sum::<i64>();
    let (posted, failed, skipped, waiting) = (
        sum(|n| n.posted),
        sum(|n| n.failed),
        sum(|n| n.skipped),
        sum(|n| n.waiting),
    );
    let period = format!(
        "{} nights from {} to {}",
        nights.len(),
        first.day.format("%-d %b %Y"),
        last.day.format("%-d %b %Y")
    );
    if posted + failed + skipped + waiting == 0 {
        return format!("{period}: no documents.");
    }
    let mut text = format!(
        "{period}: {posted} posted, {failed} failed, {skipped} skipped, {waiting} waiting."
    );
    if let Some(busiest) = nights.iter().max_by_key(|n| (n.total(), n.day)) {
        text.push_str(&format!(
            " Busiest night: {} with {} documents.",
            busiest.day.format("%-d %b"),
            busiest.total()
        ));
    }
    let failing: Vec<String> = nights
        .iter()
        .filter(|n| n.failed > 0)
        .map(|n| format!("{} ({})", n.day.format("%-d %b"), n.failed))
        .collect();
    if failing.is_empty() {
        text.push_str(" No night had failures.");
    } else if failing.len() <= 6 {
        text.push_str(&format!(" Nights with failures: {}.", failing.join(", ")));
    } else if let Some(worst) = nights.iter().max_by_key(|n| (n.failed, n.day)) {
        text.push_str(&format!(
            " Failures on {} of {} nights, the most on {} ({}).",
            failing.len(),
            nights.len(),
            worst.day.format("%-d %b"),
            worst.failed
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn night(day: u32, posted: i64, failed: i64, skipped: i64) -> Night {
        Night {
            day: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            posted,
            failed,
            skipped,
            waiting: 0,
        }
    }

    #[test]
    fn the_summary_says_the_totals_the_busiest_night_and_the_failures() {
        let nights = [night(24, 3, 0, 0), night(25, 5, 2, 1), night(26, 0, 0, 0)];
        assert_eq!(
            summary(&nights),
            "3 nights from 24 Nov 2026 to 26 Nov 2026: 8 posted, 2 failed, 1 skipped, 0 waiting. \
             Busiest night: 25 Nov with 8 documents. Nights with failures: 25 Nov (2)."
        );
    }

    #[test]
    fn many_nights_with_failures_are_summed_up_not_listed() {
        let nights: Vec<Night> = (1..=8)
            .map(|d| night(d, 1, i64::from(d % 3 + 1), 0))
            .collect();
        assert!(
            summary(&nights).ends_with("Failures on 8 of 8 nights, the most on 8 Nov (3)."),
            "{}",
            summary(&nights)
        );
    }

    #[test]
    fn the_chart_is_an_svg_with_words_and_no_style_attributes() {
        let svg = nights_svg(&[night(24, 3, 0, 0), night(25, 5, 2, 1)]);
        assert!(svg.starts_with("<svg role=\"img\""), "{svg}");
        for word in [
            "Posted",
            "Failed (hatched, count above)",
            "Skipped (outline)",
            "2✕",
            "24 Nov",
        ] {
            assert!(svg.contains(word), "{word} in {svg}");
        }
        // The page's content security policy refuses inline styles.
        assert!(!svg.contains("style="), "{svg}");
    }

    #[test]
    fn the_same_nights_are_drawn_once_and_changed_nights_again() {
        let nights = [night(3, 7, 1, 0), night(4, 2, 0, 0)];
        let first = nights_svg(&nights);
        let key: ChartKey = nights
            .iter()
            .map(|n| (n.day, n.posted, n.failed, n.skipped, n.waiting))
            .collect();
        assert!(DRAWN.lock().unwrap().contains_key(&key));
        assert_eq!(nights_svg(&nights), first);
        let after_a_run = [night(3, 8, 0, 0), night(4, 2, 0, 0)];
        let redrawn = nights_svg(&after_a_run);
        assert_ne!(redrawn, first);
        assert!(redrawn.contains("Posted"), "{redrawn}");
    }
}

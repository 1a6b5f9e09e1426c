//! Business hours of an inbox: a weekly timetable in the inbox's local time, plus public
//! holidays (closed all day) and make-up workdays (调休: a Saturday or Sunday worked as a normal
//! weekday). Pure functions of a timestamp; the caller supplies the clock.
//!
//! ```json
//! {"utc_offset_minutes":480,
//!  "weekly":[[[540,1080]],[[540,1080]],[[540,1080]],[[540,1080]],[[540,1080]],[],[]],
//!  "holidays":["2026-10-01"],"workdays":["2026-10-11"]}
//! ```
//!
//! `weekly` lists seven days, Monday first; each day is a list of `[start, end)` ranges in
//! minutes since local midnight (`[540,1080]` is 09:00–18:00; an end of 1440 is midnight). A
//! make-up workday uses the first non-empty Monday–Friday list. Local time is a fixed UTC
//! offset: there is no daylight-saving rule (China has none; elsewhere the administrator edits
//! the offset).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Minutes in a day; the largest range end.
pub const MINUTES_PER_DAY: i32 = 1440;
/// Largest UTC offset either way (UTC+14 and UTC−12 exist; ±14 h covers both).
pub const MAX_OFFSET_MINUTES: i32 = 14 * 60;
/// How far [`BusinessHours::next_open`] looks ahead.
pub const SEARCH_DAYS: i64 = 366;
/// Most dates in `holidays` or in `workdays`.
pub const MAX_DATES: usize = 1000;

const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

/// When an inbox is staffed. Absent from the inbox settings: always open. `holidays` and
/// `workdays` may be left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// Local time minus UTC, in minutes (480 for Beijing time).
    pub utc_offset_minutes: i32,
    /// Seven lists of `[start_minute, end_minute)` ranges, Monday first.
    pub weekly: Vec<Vec<[i32; 2]>>,
    /// `YYYY-MM-DD` local dates closed all day.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// `YYYY-MM-DD` Saturdays or Sundays worked as a normal weekday.
    #[serde(default)]
    pub workdays: Vec<String>,
}

impl Default for BusinessHours {
    /// Always open.
    fn default() -> Self {
        BusinessHours {
            utc_offset_minutes: 0,
            weekly: vec![vec![[0, MINUTES_PER_DAY]]; 7],
            holidays: Vec::new(),
            workdays: Vec::new(),
        }
    }
}

/// Holidays and make-up workdays as day numbers (days since 1970-01-01, local).
struct Calendar {
    holidays: BTreeSet<i64>,
    workdays: BTreeSet<i64>,
}

impl BusinessHours {
    /// Whether the inbox is open at `now_ms` (ms since the epoch). Invalid ranges and dates,
    /// which [`validate`](Self::validate) reports, are ignored.
    pub fn is_open(&self, now_ms: i64) -> bool {
        let local = self.to_local(now_ms);
        let minute = i32::try_from(local.rem_euclid(MS_PER_DAY) / MS_PER_MINUTE).unwrap_or(0);
        self.ranges_on(local.div_euclid(MS_PER_DAY), &self.calendar())
            .iter()
            .any(|&(start, end)| start <= minute && minute < end)
    }

    /// The first instant at or after `now_ms` when the inbox is open: `now_ms` itself when it
    /// is open now, `None` when it does not open within the next 366 days.
    pub fn next_open(&self, now_ms: i64) -> Option<i64> {
        if self.is_open(now_ms) {
            return Some(now_ms);
        }
        let local = self.to_local(now_ms);
        let today = local.div_euclid(MS_PER_DAY);
        let calendar = self.calendar();
        (today..=today.saturating_add(SEARCH_DAYS)).find_map(|day| {
            let midnight = day.saturating_mul(MS_PER_DAY);
            self.ranges_on(day, &calendar)
                .into_iter()
                .map(|(start, _)| midnight.saturating_add(i64::from(start) * MS_PER_MINUTE))
                // Closed now, so a range still running would have started after `local`.
                .find(|&start| start > local)
                .map(|start| start.saturating_sub(self.offset_ms()))
        })
    }

    /// Every problem, each naming its field (`weekly[2][0]: …`); empty when valid.
    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.utc_offset_minutes.abs() > MAX_OFFSET_MINUTES {
            p.push(format!(
                "utc_offset_minutes: must be between -{MAX_OFFSET_MINUTES} and \
                 {MAX_OFFSET_MINUTES} (±14 hours)"
            ));
        }
        if self.weekly.len() != 7 {
            p.push(format!(
                "weekly: must list 7 days, Monday first (found {})",
                self.weekly.len()
            ));
        }
        for (d, ranges) in self.weekly.iter().enumerate() {
            let mut valid = Vec::new();
            for (r, &[start, end]) in ranges.iter().enumerate() {
                if 0 <= start && start < end && end <= MINUTES_PER_DAY {
                    valid.push((start, end));
                } else {
                    p.push(format!(
                        "weekly[{d}][{r}]: need 0 <= start < end <= {MINUTES_PER_DAY} \
                         (found [{start},{end}])"
                    ));
                }
            }
            valid.sort_unstable();
            for pair in valid.windows(2) {
                if let [(s1, e1), (s2, e2)] = *pair
                    && e1 > s2
                {
                    p.push(format!(
                        "weekly[{d}]: ranges [{s1},{e1}] and [{s2},{e2}] overlap"
                    ));
                }
            }
        }
        let holidays = check_dates("holidays", &self.holidays, &mut p);
        let workdays = check_dates("workdays", &self.workdays, &mut p);
        for (i, (text, day)) in self.workdays.iter().zip(workdays).enumerate() {
            let Some(day) = day else { continue };
            if weekday(day) < 5 {
                p.push(format!("workdays[{i}]: {text} is not a Saturday or Sunday"));
            }
            if holidays.contains(&Some(day)) {
                p.push(format!("workdays[{i}]: {text} is also a holiday"));
            }
        }
        p
    }

    fn offset_ms(&self) -> i64 {
        i64::from(self.utc_offset_minutes) * MS_PER_MINUTE
    }

    fn to_local(&self, now_ms: i64) -> i64 {
        now_ms.saturating_add(self.offset_ms())
    }

    fn calendar(&self) -> Calendar {
        let days = |v: &[String]| v.iter().filter_map(|s| parse_date(s)).collect();
        Calendar {
            holidays: days(&self.holidays),
            workdays: days(&self.workdays),
        }
    }

    /// The valid opening ranges of local day `day`, sorted.
    fn ranges_on(&self, day: i64, calendar: &Calendar) -> Vec<(i32, i32)> {
        if calendar.holidays.contains(&day) {
            return Vec::new();
        }
        let wd = weekday(day);
        let list = if wd >= 5 && calendar.workdays.contains(&day) {
            self.weekly.iter().take(5).find(|l| !l.is_empty())
        } else {
            self.weekly.get(wd)
        };
        let mut ranges: Vec<(i32, i32)> = list
            .into_iter()
            .flatten()
            .map(|&[start, end]| (start, end))
            .filter(|&(start, end)| 0 <= start && start < end && end <= MINUTES_PER_DAY)
            .collect();
        ranges.sort_unstable();
        ranges
    }
}

/// Report each entry of `field` that is not a `YYYY-MM-DD` date; returns the parsed days.
fn check_dates(field: &str, dates: &[String], p: &mut Vec<String>) -> Vec<Option<i64>> {
    if dates.len() > MAX_DATES {
        p.push(format!("{field}: at most {MAX_DATES} dates"));
    }
    dates
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let day = parse_date(text);
            if day.is_none() {
                p.push(format!("{field}[{i}]: {text:?} is not a date (YYYY-MM-DD)"));
            }
            day
        })
        .collect()
}

/// Day of the week of day number `day`, Monday = 0 (1970-01-01 was a Thursday).
fn weekday(day: i64) -> usize {
    usize::try_from((day + 3).rem_euclid(7)).unwrap_or(0)
}

/// `YYYY-MM-DD` (exactly) to days since 1970-01-01; `None` if malformed or no such date.
fn parse_date(text: &str) -> Option<i64> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *text.as_bytes() else {
        return None;
    };
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = number(&[y0, y1, y2, y3])?;
    let month = number(&[m0, m1])?;
    let day = number(&[d0, d1])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(i64::from(year), month, day))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`,
/// <https://howardhinnant.github.io/date_algorithms.html#days_from_civil>).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEIJING: i32 = 480;

    /// UTC ms of a local date and time at `offset` minutes.
    fn at(date: &str, hour: i64, minute: i64, offset: i32) -> i64 {
        let day = parse_date(date).unwrap();
        day * MS_PER_DAY + (hour * 60 + minute) * MS_PER_MINUTE - i64::from(offset) * MS_PER_MINUTE
    }

    /// The documented example: 09:00–18:00 Monday to Friday, Beijing time, National Day
    /// closed, Sunday 2026-10-11 worked.
    fn office() -> BusinessHours {
        serde_json::from_str(
            r#"{"utc_offset_minutes":480,
                "weekly":[[[540,1080]],[[540,1080]],[[540,1080]],[[540,1080]],[[540,1080]],[],[]],
                "holidays":["2026-10-01"],"workdays":["2026-10-11"]}"#,
        )
        .unwrap()
    }

    #[test]
    fn dates_convert_to_day_numbers_and_weekdays() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        // 2026-11-23 00:00 UTC is 1_795_392_000 s, a Monday.
        assert_eq!(parse_date("2026-11-23"), Some(1_795_392_000 / 86_400));
        assert_eq!(parse_date("2026-11-23").map(weekday), Some(0));
        assert_eq!(parse_date("2026-10-11").map(weekday), Some(6));
        assert_eq!(
            parse_date("2024-02-29"),
            Some(parse_date("2024-03-01").unwrap() - 1)
        );
        for bad in [
            "2026-02-29",
            "2100-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "x",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(parse_date("1969-12-31"), Some(-1));
    }

    #[test]
    fn office_hours_open_at_nine_and_close_at_six_beijing_time() {
        let h = office();
        assert!(h.validate().is_empty(), "{:?}", h.validate());
        // Monday 2026-11-23.
        assert!(!h.is_open(at("2026-11-23", 8, 59, BEIJING)));
        assert!(!h.is_open(at("2026-11-23", 9, 0, BEIJING) - 1));
        assert!(h.is_open(at("2026-11-23", 9, 0, BEIJING)));
        // 10:00 Beijing is 02:00 UTC.
        assert_eq!(at("2026-11-23", 10, 0, BEIJING), at("2026-11-23", 2, 0, 0));
        assert!(h.is_open(at("2026-11-23", 10, 0, BEIJING)));
        assert!(h.is_open(at("2026-11-23", 17, 59, BEIJING)));
        assert!(!h.is_open(at("2026-11-23", 18, 0, BEIJING)));
        // Saturday and Sunday.
        assert!(!h.is_open(at("2026-11-28", 10, 0, BEIJING)));
        assert!(!h.is_open(at("2026-11-29", 10, 0, BEIJING)));
    }

    #[test]
    fn a_holiday_is_closed_all_day() {
        let h = office();
        // Thursday 2026-10-01.
        assert!(!h.is_open(at("2026-10-01", 10, 0, BEIJING)));
        assert!(h.is_open(at("2026-10-02", 10, 0, BEIJING)));
    }

    #[test]
    fn a_make_up_sunday_is_worked_with_weekday_hours() {
        let h = office();
        // Sunday 2026-10-11 (调休) uses Monday's 09:00–18:00; the Saturday before stays closed.
        assert!(h.is_open(at("2026-10-11", 10, 0, BEIJING)));
        assert!(!h.is_open(at("2026-10-11", 8, 0, BEIJING)));
        assert!(!h.is_open(at("2026-10-10", 10, 0, BEIJING)));

        // With Monday closed, the first non-empty weekday list (Tuesday's) is used.
        let mut h = office();
        h.weekly = vec![
            vec![],
            vec![[600, 660]],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
        ];
        assert!(h.is_open(at("2026-10-11", 10, 30, BEIJING)));
        assert!(!h.is_open(at("2026-10-11", 9, 30, BEIJING)));
    }

    #[test]
    fn a_range_ending_at_midnight_includes_the_last_minute_only() {
        let mut h = office();
        h.weekly = vec![
            vec![[1080, 1440]],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
        ];
        assert!(h.validate().is_empty());
        assert!(h.is_open(at("2026-11-24", 0, 0, BEIJING) - 1));
        assert!(!h.is_open(at("2026-11-24", 0, 0, BEIJING)));
        assert!(!h.is_open(at("2026-11-23", 17, 59, BEIJING)));
    }

    #[test]
    fn local_days_follow_the_offset_not_utc() {
        // UTC−05:00: Monday 20:00 local is Tuesday 01:00 UTC.
        let h = BusinessHours {
            utc_offset_minutes: -300,
            weekly: vec![
                vec![[1140, 1260]],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
            ],
            ..BusinessHours::default()
        };
        let t = at("2026-11-23", 20, 0, -300);
        assert_eq!(t, at("2026-11-24", 1, 0, 0));
        assert!(h.is_open(t));
        assert!(!h.is_open(at("2026-11-24", 20, 0, -300)));
    }

    #[test]
    fn next_open_finds_the_next_opening_across_weekends_and_holidays() {
        let h = office();
        let monday_ten = at("2026-11-23", 10, 0, BEIJING);
        assert_eq!(h.next_open(monday_ten), Some(monday_ten));
        // Monday 07:00 → Monday 09:00 (01:00 UTC).
        assert_eq!(
            h.next_open(at("2026-11-23", 7, 0, BEIJING)),
            Some(at("2026-11-23", 1, 0, 0))
        );
        // Friday 18:30 → Monday 09:00.
        assert_eq!(
            h.next_open(at("2026-11-27", 18, 30, BEIJING)),
            Some(at("2026-11-30", 9, 0, BEIJING))
        );
        // Wednesday 2026-09-30 19:00, before the holiday → Friday 2026-10-02 09:00.
        assert_eq!(
            h.next_open(at("2026-09-30", 19, 0, BEIJING)),
            Some(at("2026-10-02", 9, 0, BEIJING))
        );
        // Saturday 2026-10-10 → the make-up Sunday 09:00.
        assert_eq!(
            h.next_open(at("2026-10-10", 12, 0, BEIJING)),
            Some(at("2026-10-11", 9, 0, BEIJING))
        );
        // Between two ranges of one day → the second range.
        let mut split = office();
        split.weekly = vec![vec![[720, 780], [540, 600]]; 7];
        assert_eq!(
            split.next_open(at("2026-11-23", 10, 30, BEIJING)),
            Some(at("2026-11-23", 12, 0, BEIJING))
        );
    }

    #[test]
    fn next_open_is_none_when_never_open_within_a_year() {
        let mut h = office();
        h.weekly = vec![Vec::new(); 7];
        h.workdays.clear();
        assert_eq!(h.next_open(at("2026-11-23", 10, 0, BEIJING)), None);
    }

    #[test]
    fn the_default_is_always_open() {
        let h = BusinessHours::default();
        assert!(h.validate().is_empty());
        for t in [0, at("2026-11-28", 3, 0, 0), at("2026-10-01", 23, 59, 0)] {
            assert!(h.is_open(t));
            assert_eq!(h.next_open(t), Some(t));
        }
    }

    #[test]
    fn validate_names_each_problem() {
        let h = BusinessHours {
            utc_offset_minutes: 15 * 60,
            weekly: vec![
                vec![[540, 720], [700, 1080]],
                vec![[600, 600], [-1, 10], [0, 1441]],
                vec![[0, 60], [60, 120]],
            ],
            holidays: vec!["2026-02-30".into(), "2026-10-01".into()],
            workdays: vec!["2026-10-12".into(), "2026-10-01".into(), "soon".into()],
        };
        let p = h.validate();
        for field in [
            "utc_offset_minutes:",
            "weekly: must list 7 days",
            "weekly[0]: ranges [540,720] and [700,1080] overlap",
            "weekly[1][0]:",
            "weekly[1][1]:",
            "weekly[1][2]:",
            "holidays[0]:",
            "workdays[0]: 2026-10-12 is not a Saturday or Sunday",
            "workdays[1]: 2026-10-01 is not a Saturday or Sunday",
            "workdays[1]: 2026-10-01 is also a holiday",
            "workdays[2]:",
        ] {
            assert!(p.iter().any(|e| e.starts_with(field)), "{field} in {p:?}");
        }
        assert_eq!(p.len(), 11, "{p:?}");
    }

    #[test]
    fn unknown_fields_are_refused_and_the_lists_of_dates_may_be_left_out() {
        let h: BusinessHours =
            serde_json::from_str(r#"{"utc_offset_minutes":0,"weekly":[[],[],[],[],[],[],[]]}"#)
                .unwrap();
        assert!(h.holidays.is_empty() && h.workdays.is_empty());
        assert!(
            serde_json::from_str::<BusinessHours>(
                r#"{"utc_offset_minutes":0,"weekly":[],"holiday":[]}"#
            )
            .is_err()
        );
    }
}

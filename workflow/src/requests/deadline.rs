//! Deadlines of Art. 12(3) GDPR counted per Regulation (EEC, Euratom) No 1182/71.
//!
//! A period in months ends on the day of the last month that has the same number as
//! the day the period started; if that day does not exist, on the last day of that
//! month (Art. 3(2)(c)); if it is a Saturday, Sunday or public holiday, at the end of
//! the next working day (Art. 3(4)). Plain calendar arithmetic, no I/O.

use std::collections::BTreeSet;

use chrono::{Datelike, Months, NaiveDate, Weekday};

stored_enum! {
    /// A German state (ISO 3166-2), whose public holidays add to the federal ones.
    GermanState {
        /// Baden-Württemberg.
        BadenWuerttemberg => "DE-BW",
        /// Bayern (Assumption Day only where the municipality observes it: not included).
        Bayern => "DE-BY",
        /// Berlin.
        Berlin => "DE-BE",
        /// Brandenburg.
        Brandenburg => "DE-BB",
        /// Bremen.
        Bremen => "DE-HB",
        /// Hamburg.
        Hamburg => "DE-HH",
        /// Hessen.
        Hessen => "DE-HE",
        /// Mecklenburg-Vorpommern.
        MecklenburgVorpommern => "DE-MV",
        /// Niedersachsen.
        Niedersachsen => "DE-NI",
        /// Nordrhein-Westfalen.
        NordrheinWestfalen => "DE-NW",
        /// Rheinland-Pfalz.
        RheinlandPfalz => "DE-RP",
        /// Saarland.
        Saarland => "DE-SL",
        /// Sachsen.
        Sachsen => "DE-SN",
        /// Sachsen-Anhalt.
        SachsenAnhalt => "DE-ST",
        /// Schleswig-Holstein.
        SchleswigHolstein => "DE-SH",
        /// Thüringen.
        Thueringen => "DE-TH",
    }
}

/// Easter Sunday of a Gregorian year (anonymous Gregorian algorithm, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a valid date")
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("fixed holiday is a valid date")
}

/// The public holidays of one year: federal ones, plus those of `state`.
pub fn german_holidays(year: i32, state: Option<GermanState>) -> Vec<(NaiveDate, &'static str)> {
    use GermanState::*;
    let easter = easter_sunday(year);
    let after_easter = |days: u64| easter + chrono::Days::new(days);
    let mut days = vec![
        (ymd(year, 1, 1), "Neujahr"),
        (easter - chrono::Days::new(2), "Karfreitag"),
        (after_easter(1), "Ostermontag"),
        (ymd(year, 5, 1), "Tag der Arbeit"),
        (after_easter(39), "Christi Himmelfahrt"),
        (after_easter(50), "Pfingstmontag"),
        (ymd(year, 10, 3), "Tag der Deutschen Einheit"),
        (ymd(year, 12, 25), "1. Weihnachtstag"),
        (ymd(year, 12, 26), "2. Weihnachtstag"),
    ];
    if year == 2017 {
        days.push((ymd(2017, 10, 31), "Reformationstag (500 Jahre)"));
    }
    let Some(state) = state else {
        return days;
    };
    let is = |states: &[GermanState]| states.contains(&state);
    if is(&[BadenWuerttemberg, Bayern, SachsenAnhalt]) {
        days.push((ymd(year, 1, 6), "Heilige Drei Könige"));
    }
    if (state == Berlin && year >= 2019) || (state == MecklenburgVorpommern && year >= 2023) {
        days.push((ymd(year, 3, 8), "Internationaler Frauentag"));
    }
    if state == Berlin && (year == 2020 || year == 2025) {
        days.push((ymd(year, 5, 8), "Tag der Befreiung"));
    }
    if is(&[
        BadenWuerttemberg,
        Bayern,
        Hessen,
        NordrheinWestfalen,
        RheinlandPfalz,
        Saarland,
    ]) {
        days.push((after_easter(60), "Fronleichnam"));
    }
    if state == Saarland {
        days.push((ymd(year, 8, 15), "Mariä Himmelfahrt"));
    }
    if state == Thueringen && year >= 2019 {
        days.push((ymd(year, 9, 20), "Weltkindertag"));
    }
    let reformation_since_2018 = [Bremen, Hamburg, Niedersachsen, SchleswigHolstein];
    // In 2017 it was a federal holiday (listed above).
    if year != 2017
        && (is(&[
            Brandenburg,
            MecklenburgVorpommern,
            Sachsen,
            SachsenAnhalt,
            Thueringen,
        ]) || (year >= 2018 && is(&reformation_since_2018)))
    {
        days.push((ymd(year, 10, 31), "Reformationstag"));
    }
    if is(&[
        BadenWuerttemberg,
        Bayern,
        NordrheinWestfalen,
        RheinlandPfalz,
        Saarland,
    ]) {
        days.push((ymd(year, 11, 1), "Allerheiligen"));
    }
    if state == Sachsen {
        // Buß- und Bettag: the Wednesday before 23 November.
        let mut day = ymd(year, 11, 22);
        while day.weekday() != Weekday::Wed {
            day = day.pred_opt().expect("valid date");
        }
        days.push((day, "Buß- und Bettag"));
    }
    days.sort();
    days
}

/// Which days are no working days for an organization.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// The state whose holidays apply besides the federal ones.
    pub state: Option<GermanState>,
    /// Days the organization declared closed (e.g. 24 and 31 December).
    pub closed_days: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// Whether `day` is a public holiday or closed day (weekends are not asked here).
    pub fn is_holiday(&self, day: NaiveDate) -> bool {
        self.closed_days.contains(&day)
            || german_holidays(day.year(), self.state)
                .iter()
                .any(|(d, _)| *d == day)
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(day)
    }

    /// `day` itself if it is a working day, else the next working day.
    pub fn next_working_day(&self, mut day: NaiveDate) -> NaiveDate {
        while !self.is_working_day(day) {
            day = day.succ_opt().expect("dates before year 262143");
        }
        day
    }

    /// The end of a period of `months` months starting on `start` (Art. 3(2)(c) and
    /// 3(4) of Regulation 1182/71): same day number, clamped to the month's end,
    /// rolled forward to a working day.
    pub fn period_end(&self, start: NaiveDate, months: u32) -> NaiveDate {
        // chrono clamps a missing day to the last day of the month.
        let end = start
            .checked_add_months(Months::new(months))
            .expect("dates before year 262143");
        self.next_working_day(end)
    }

    /// The Art. 12(3) deadline: one month after `start`.
    pub fn due_date(&self, start: NaiveDate) -> NaiveDate {
        self.period_end(start, 1)
    }

    /// The extended deadline: two further months, i.e. three months after `start`
    /// counted on the same rules.
    pub fn extended_due_date(&self, start: NaiveDate) -> NaiveDate {
        self.period_end(start, 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        ymd(y, m, day)
    }

    #[test]
    fn easter_matches_published_dates() {
        for (year, month, day) in [
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(year), d(year, month, day), "{year}");
        }
    }

    #[test]
    fn month_end_clamps_to_the_last_day() {
        let c = Calendar::default();
        // 31 Jan -> 28 Feb 2025 (Fri) / 29 Feb 2024 (Thu, leap year).
        assert_eq!(c.due_date(d(2025, 1, 31)), d(2025, 2, 28));
        assert_eq!(c.due_date(d(2024, 1, 31)), d(2024, 2, 29));
        // 30 Jan 2024 -> 29 Feb (leap), 30 Jan 2025 -> 28 Feb.
        assert_eq!(c.due_date(d(2024, 1, 30)), d(2024, 2, 29));
        assert_eq!(c.due_date(d(2025, 1, 30)), d(2025, 2, 28));
        // 31 Mar -> 30 Apr 2025 (Wed); 31 Aug -> 30 Sep 2027 (Thu).
        assert_eq!(c.due_date(d(2025, 3, 31)), d(2025, 4, 30));
        assert_eq!(c.due_date(d(2027, 8, 31)), d(2027, 9, 30));
        // 30 Apr -> 30 May 2025 (Fri): same day number, no clamp needed.
        assert_eq!(c.due_date(d(2025, 4, 30)), d(2025, 5, 30));
        // 29 Feb 2024 -> 29 Mar 2024 is Good Friday -> Tue 2 Apr (Easter Monday 1 Apr).
        assert_eq!(c.due_date(d(2024, 2, 29)), d(2024, 4, 2));
    }

    #[test]
    fn weekends_roll_forward_to_monday() {
        let c = Calendar::default();
        // 14 Oct 2026 -> 14 Nov 2026 is a Saturday -> Mon 16 Nov.
        assert_eq!(c.due_date(d(2026, 10, 14)), d(2026, 11, 16));
        // 15 Oct 2026 -> Sun 15 Nov -> Mon 16 Nov.
        assert_eq!(c.due_date(d(2026, 10, 15)), d(2026, 11, 16));
        // 28 Feb 2026 (received on a Saturday) -> Sat 28 Mar -> Mon 30 Mar.
        assert_eq!(c.due_date(d(2026, 2, 28)), d(2026, 3, 30));
    }

    #[test]
    fn holidays_roll_forward() {
        let c = Calendar::default();
        // 6 Mar 2026 -> 6 Apr 2026 is Easter Monday -> Tue 7 Apr.
        assert_eq!(c.due_date(d(2026, 3, 6)), d(2026, 4, 7));
        // 3 Mar 2026 -> 3 Apr is Good Friday; Sat, Sun, Easter Monday -> Tue 7 Apr.
        assert_eq!(c.due_date(d(2026, 3, 3)), d(2026, 4, 7));
        // 25 Nov 2026 -> Fri 25 Dec, Sat 26, Sun 27 -> Mon 28 Dec.
        assert_eq!(c.due_date(d(2026, 11, 25)), d(2026, 12, 28));
        // 24 Nov 2027 -> Fri 24 Dec is a working day (not a holiday by law).
        assert_eq!(c.due_date(d(2027, 11, 24)), d(2027, 12, 24));
        // 1 Dec 2027 -> Sat 1 Jan 2028 -> Mon 3 Jan.
        assert_eq!(c.due_date(d(2027, 12, 1)), d(2028, 1, 3));
        // 1 Dec 2025 -> Thu 1 Jan 2026 (New Year) -> Fri 2 Jan.
        assert_eq!(c.due_date(d(2025, 12, 1)), d(2026, 1, 2));
        // 3 Sep 2025 -> Fri 3 Oct (German Unity Day) -> Mon 6 Oct.
        assert_eq!(c.due_date(d(2025, 9, 3)), d(2025, 10, 6));
        // Whit Monday 2026 is 25 May: 25 Apr -> Tue 26 May.
        assert_eq!(c.due_date(d(2026, 4, 25)), d(2026, 5, 26));
    }

    #[test]
    fn state_holidays_and_closed_days_count() {
        let bavaria = Calendar {
            state: Some(GermanState::Bayern),
            ..Calendar::default()
        };
        let berlin = Calendar {
            state: Some(GermanState::Berlin),
            ..Calendar::default()
        };
        // 6 Jan 2027 (Wed) is Epiphany in Bavaria, not in Berlin.
        assert_eq!(bavaria.due_date(d(2026, 12, 6)), d(2027, 1, 7));
        assert_eq!(berlin.due_date(d(2026, 12, 6)), d(2027, 1, 6));
        // Corpus Christi 2026: Thu 4 June (Easter + 60).
        assert_eq!(bavaria.due_date(d(2026, 5, 4)), d(2026, 6, 5));
        assert_eq!(berlin.due_date(d(2026, 5, 4)), d(2026, 6, 4));
        // Women's Day 8 Mar 2027 (Mon) in Berlin.
        assert_eq!(berlin.due_date(d(2027, 2, 8)), d(2027, 3, 9));
        // Repentance Day in Saxony: 18 Nov 2026.
        let saxony = Calendar {
            state: Some(GermanState::Sachsen),
            ..Calendar::default()
        };
        assert_eq!(saxony.due_date(d(2026, 10, 18)), d(2026, 11, 19));
        assert_eq!(
            german_holidays(2026, Some(GermanState::Sachsen))
                .iter()
                .filter(|(_, n)| *n == "Buß- und Bettag")
                .map(|(d, _)| *d)
                .collect::<Vec<_>>(),
            vec![d(2026, 11, 18)]
        );
        // An organization closed on 24 Dec 2027.
        let closed = Calendar {
            state: None,
            closed_days: [d(2027, 12, 24)].into(),
        };
        assert_eq!(closed.due_date(d(2027, 11, 24)), d(2027, 12, 27));
        // Federal holidays only: nine a year (plus the 2017 Reformation Day).
        assert_eq!(german_holidays(2026, None).len(), 9);
        assert_eq!(german_holidays(2017, None).len(), 10);
    }

    #[test]
    fn extension_runs_three_months_from_the_start_across_year_end() {
        let c = Calendar::default();
        // Received 15 Nov 2026: due Tue 15 Dec 2026, extended Mon 15 Feb 2027.
        assert_eq!(c.due_date(d(2026, 11, 15)), d(2026, 12, 15));
        assert_eq!(c.extended_due_date(d(2026, 11, 15)), d(2027, 2, 15));
        // Received 30 Nov 2027: extended to 29 Feb 2028 (leap year, clamped).
        assert_eq!(c.extended_due_date(d(2027, 11, 30)), d(2028, 2, 29));
        // Received 31 Oct 2026: extended to 31 Jan 2027, a Sunday -> Mon 1 Feb.
        assert_eq!(c.extended_due_date(d(2026, 10, 31)), d(2027, 2, 1));
        // Received 25 Oct 2025: extension ends on Sun 25 Jan 2026 -> Mon 26 Jan.
        assert_eq!(c.extended_due_date(d(2025, 10, 25)), d(2026, 1, 26));
    }

    #[test]
    fn states_parse_and_print() {
        for s in GermanState::ALL {
            assert_eq!(s.as_str().parse::<GermanState>().unwrap(), *s);
        }
        assert!("DE-XX".parse::<GermanState>().is_err());
    }
}

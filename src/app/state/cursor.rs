//! The one cursor every list uses: which row is selected and which is at the top of the
//! screen. Screens differ in what their rows are, not in how a cursor moves over them.

use super::super::keymap::Action;

/// A move of a cursor: by rows (a page is a screenful of rows), or to an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    By(i64),
    Top,
    Bottom,
}

impl Move {
    /// The move an action asks for, `page` rows being a screenful; `None` for actions
    /// that do not move.
    pub fn from_action(action: Action, page: usize) -> Option<Move> {
        let page = page as i64;
        Some(match action {
            Action::Down => Move::By(1),
            Action::Up => Move::By(-1),
            Action::PageDown => Move::By(page),
            Action::PageUp => Move::By(-page),
            Action::Top => Move::Top,
            Action::Bottom => Move::Bottom,
            _ => return None,
        })
    }
}

/// A position in a list of rows. `selected` and `top` are absolute indexes: a table that
/// holds only a window of its rows (keyset paging) counts them in the whole list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListCursor {
    /// The selected row.
    pub selected: u64,
    /// The first row on screen.
    pub top: u64,
}

impl ListCursor {
    /// The selected row as an index into an in-memory list.
    pub fn index(&self) -> usize {
        usize::try_from(self.selected).unwrap_or(usize::MAX)
    }

    /// Moves within `0..len`; true when the selection changed.
    pub fn step(&mut self, mv: Move, len: u64) -> bool {
        let before = self.selected;
        self.selected = self.target(mv, 0, len);
        self.selected != before
    }

    /// Where `mv` lands within `from..to` (the whole list, or the loaded part of it).
    pub fn target(&self, mv: Move, from: u64, to: u64) -> u64 {
        if to <= from {
            return from;
        }
        match mv {
            Move::By(d) => {
                let moved = (self.selected as i128 + i128::from(d))
                    .clamp(i128::from(from), i128::from(to) - 1);
                moved as u64
            }
            Move::Top => from,
            Move::Bottom => to - 1,
        }
    }

    /// Keeps the selection inside a list that now has `len` rows.
    pub fn clamp(&mut self, len: u64) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }

    /// Back to the first row.
    pub fn reset(&mut self) {
        *self = ListCursor::default();
    }

    /// Scrolls only as far as needed to keep the selection among `rows` rows on screen.
    pub fn keep_visible(&mut self, rows: u64) {
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + rows {
            self.top = self.selected + 1 - rows;
        }
    }
}

/// A text that scrolls by lines (an explanation, a delivery's detail), up to where its last
/// line reaches the bottom.
#[derive(Debug, Clone, Default)]
pub struct TextScroll {
    pub offset: u16,
    /// How far the text can scroll: only the renderer knows how its lines wrap, so it
    /// leaves the answer here for `update` (`u16::MAX` until it has drawn once).
    pub max: std::cell::Cell<u16>,
}

impl TextScroll {
    pub fn new() -> Self {
        TextScroll {
            offset: 0,
            max: std::cell::Cell::new(u16::MAX),
        }
    }

    pub fn scroll(&mut self, mv: Move) {
        let max = i64::from(self.max.get());
        self.offset = match mv {
            Move::By(d) => (i64::from(self.offset) + d).clamp(0, max) as u16,
            Move::Top => 0,
            Move::Bottom => max as u16,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_stays_in_its_list_and_scrolls_only_as_needed() {
        let mut c = ListCursor::default();
        assert!(!c.step(Move::By(-1), 10));
        assert!(c.step(Move::By(25), 10));
        assert_eq!(c.selected, 9);
        c.keep_visible(4);
        assert_eq!(c.top, 6);
        c.step(Move::Top, 10);
        c.keep_visible(4);
        assert_eq!((c.selected, c.top), (0, 0));
        c.step(Move::Bottom, 0);
        assert_eq!(c.selected, 0);
        c.selected = 7;
        c.clamp(3);
        assert_eq!(c.selected, 2);
        assert_eq!(c.target(Move::By(-50), 100, 300), 100);
    }
}

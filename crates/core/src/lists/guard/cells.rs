//! What one of calamine's cells costs in memory: shared by the ods and xls
//! estimates.

use std::mem::size_of;

use calamine::{Cell, Data};

/// Bytes per cell in calamine's grids: the value and the formula text.
pub(super) const GRID_CELL: u64 = (size_of::<Data>() + size_of::<String>()) as u64;
/// Bytes per cell calamine collects before it builds a grid.
pub(super) const LIST_CELL: u64 = (size_of::<Cell<Data>>() + size_of::<Cell<String>>()) as u64;

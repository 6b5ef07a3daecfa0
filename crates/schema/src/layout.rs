//! Struct layout: assigns data/pointer offsets exactly like the official compiler's
//! `StructLayout` (node-translator.c++).
//!
//! The data section is tracked as a word count plus a set of "holes" (at most one hole of each
//! power-of-two size).  Unions own a list of data/pointer "locations" that their member groups
//! share; each group tracks how much of each location it uses, and locations may be expanded
//! into adjacent holes of the parent scope.

/// At most one hole per size class 1..32 bits (index = lg2 of the bit size).
#[derive(Debug, Clone, Copy, Default)]
struct HoleSet {
    /// Offset of each hole in units of its size; 0 = no hole.
    holes: [u32; 6],
}

impl HoleSet {
    fn try_allocate(&mut self, lg: u32) -> Option<u32> {
        if lg >= 6 {
            None
        } else if self.holes[lg as usize] != 0 {
            let r = self.holes[lg as usize];
            self.holes[lg as usize] = 0;
            Some(r)
        } else {
            let next = self.try_allocate(lg + 1)?;
            let r = next * 2;
            self.holes[lg as usize] = r + 1;
            Some(r)
        }
    }

    fn add_holes_at_end(&mut self, mut lg: u32, mut offset: u32, limit: u32) {
        while lg < limit {
            self.holes[lg as usize] = offset;
            lg += 1;
            offset = offset.div_ceil(2);
        }
    }

    fn try_expand(&mut self, old_lg: u32, old_offset: u32, factor: u32) -> bool {
        if factor == 0 {
            return true;
        }
        if old_lg >= 6 || self.holes[old_lg as usize] != old_offset + 1 {
            return false;
        }
        if self.try_expand(old_lg + 1, old_offset >> 1, factor - 1) {
            self.holes[old_lg as usize] = 0;
            true
        } else {
            false
        }
    }

    fn smallest_at_least(&self, size: u32) -> Option<u32> {
        (size..6).find(|&i| self.holes[i as usize] != 0)
    }
}

#[derive(Debug, Clone, Copy)]
struct DataLocation {
    lg: u32,
    offset: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    used: bool,
    lg_used: u32,
    holes: HoleSet,
}

/// A scope into which fields are added: the struct itself or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The top-level struct.
    Top,
    /// A group (index returned by [`Layout::new_group`]).
    Group(usize),
}

#[derive(Debug)]
struct Union {
    parent: Scope,
    group_count: u32,
    discriminant_offset: Option<u32>,
    data_locations: Vec<DataLocation>,
    pointer_locations: Vec<u32>,
}

#[derive(Debug)]
struct Group {
    parent: usize,
    usage: Vec<Usage>,
    pointer_usage: usize,
    has_members: bool,
}

/// Layout state for one struct.
#[derive(Debug, Default)]
pub struct Layout {
    /// Data words so far.
    pub data_words: u32,
    /// Pointers so far.
    pub pointers: u32,
    holes: HoleSet,
    unions: Vec<Union>,
    groups: Vec<Group>,
    issue344: bool,
}

impl Layout {
    /// Creates a union inside `parent`; returns its index.
    pub fn new_union(&mut self, parent: Scope) -> usize {
        self.unions.push(Union {
            parent,
            group_count: 0,
            discriminant_offset: None,
            data_locations: Vec::new(),
            pointer_locations: Vec::new(),
        });
        self.unions.len() - 1
    }

    /// Creates a group that is a member of union `u`; returns its index.
    pub fn new_group(&mut self, u: usize) -> usize {
        self.groups.push(Group {
            parent: u,
            usage: Vec::new(),
            pointer_usage: 0,
            has_members: false,
        });
        self.groups.len() - 1
    }

    /// Discriminant offset of union `u` (in 16-bit units), if allocated.
    pub fn discriminant_offset(&self, u: usize) -> Option<u32> {
        self.unions.get(u).and_then(|x| x.discriminant_offset)
    }

    /// Allocates the discriminant of union `u` if not yet done; returns whether it was new.
    pub fn add_discriminant(&mut self, u: usize) -> bool {
        if self.unions[u].discriminant_offset.is_none() {
            let parent = self.unions[u].parent;
            let off = self.add_data(parent, 4);
            self.unions[u].discriminant_offset = Some(off);
            true
        } else {
            false
        }
    }

    fn new_group_adding_first_member(&mut self, u: usize) {
        self.unions[u].group_count += 1;
        if self.unions[u].group_count == 2 {
            self.add_discriminant(u);
        }
    }

    /// Marks a group as having members (the union allocates its discriminant just before its
    /// second member is added).
    fn add_member(&mut self, g: usize) {
        if !self.groups[g].has_members {
            self.groups[g].has_members = true;
            let u = self.groups[g].parent;
            self.new_group_adding_first_member(u);
        }
    }

    /// Adds a void field.
    pub fn add_void(&mut self, scope: Scope) {
        if let Scope::Group(g) = scope {
            self.add_member(g);
            // A union nested in a union must learn that a (zero-size) member was added too.
            let u = self.groups[g].parent;
            let outer = self.unions[u].parent;
            self.add_void(outer);
        }
    }

    /// Whether the layout hit a case that capnp 0.5 and older laid out incorrectly; the
    /// official compiler refuses such schemas (capnproto issue #344), and so do we.
    pub fn hit_issue_344(&self) -> bool {
        self.issue344
    }

    /// Adds a pointer field; returns its pointer index.
    pub fn add_pointer(&mut self, scope: Scope) -> u32 {
        match scope {
            Scope::Top => {
                self.pointers += 1;
                self.pointers - 1
            }
            Scope::Group(g) => {
                self.add_member(g);
                let u = self.groups[g].parent;
                let used = self.groups[g].pointer_usage;
                self.groups[g].pointer_usage += 1;
                if used < self.unions[u].pointer_locations.len() {
                    self.unions[u].pointer_locations[used]
                } else {
                    let parent = self.unions[u].parent;
                    let p = self.add_pointer(parent);
                    self.unions[u].pointer_locations.push(p);
                    p
                }
            }
        }
    }

    /// Adds a data field of 2^lg bits; returns its offset in units of its size.
    pub fn add_data(&mut self, scope: Scope, lg: u32) -> u32 {
        match scope {
            Scope::Top => {
                if let Some(h) = self.holes.try_allocate(lg) {
                    return h;
                }
                let offset = self.data_words << (6 - lg);
                self.data_words += 1;
                self.holes.add_holes_at_end(lg, offset + 1, 6);
                offset
            }
            Scope::Group(g) => self.group_add_data(g, lg),
        }
    }

    fn group_add_data(&mut self, g: usize, lg: u32) -> u32 {
        self.add_member(g);
        let u = self.groups[g].parent;
        let mut best: Option<(u32, usize)> = None;
        for i in 0..self.unions[u].data_locations.len() {
            if self.groups[g].usage.len() == i {
                self.groups[g].usage.push(Usage::default());
            }
            let loc = self.unions[u].data_locations[i];
            if let Some(h) = smallest_hole_at_least(&self.groups[g].usage[i], loc, lg)
                && best.is_none_or(|(b, _)| h < b)
            {
                best = Some((h, i));
            }
        }
        if let Some((_, i)) = best {
            let loc = self.unions[u].data_locations[i];
            return allocate_from_hole(&mut self.groups[g].usage[i], loc, lg);
        }
        for i in 0..self.unions[u].data_locations.len() {
            if let Some(r) = self.try_allocate_by_expanding(g, i, lg) {
                return r;
            }
        }
        let parent = self.unions[u].parent;
        let offset = self.add_data(parent, lg);
        self.unions[u]
            .data_locations
            .push(DataLocation { lg, offset });
        self.groups[g].usage.push(Usage {
            used: true,
            lg_used: lg,
            holes: HoleSet::default(),
        });
        offset
    }

    fn location_expand_to(&mut self, u: usize, i: usize, new_lg: u32) -> bool {
        let loc = self.unions[u].data_locations[i];
        if new_lg <= loc.lg {
            return true;
        }
        let parent = self.unions[u].parent;
        if self.try_expand_data(parent, loc.lg, loc.offset, new_lg - loc.lg) {
            let l = &mut self.unions[u].data_locations[i];
            l.offset >>= new_lg - loc.lg;
            l.lg = new_lg;
            true
        } else {
            false
        }
    }

    fn try_allocate_by_expanding(&mut self, g: usize, i: usize, lg: u32) -> Option<u32> {
        let u = self.groups[g].parent;
        let usage = self.groups[g].usage[i];
        if !usage.used {
            if self.location_expand_to(u, i, lg) {
                let loc = self.unions[u].data_locations[i];
                let us = &mut self.groups[g].usage[i];
                us.used = true;
                us.lg_used = lg;
                Some(loc.offset << (loc.lg - lg))
            } else {
                None
            }
        } else {
            let new_size = usage.lg_used.max(lg) + 1;
            if self.try_expand_usage(g, i, new_size, true) {
                let loc = self.unions[u].data_locations[i];
                let result = self.groups[g].usage[i].holes.try_allocate(lg)?;
                Some((loc.offset << (loc.lg - lg)) + result)
            } else {
                None
            }
        }
    }

    fn try_expand_usage(&mut self, g: usize, i: usize, desired: u32, new_holes: bool) -> bool {
        let u = self.groups[g].parent;
        let loc = self.unions[u].data_locations[i];
        if desired > loc.lg && !self.location_expand_to(u, i, desired) {
            return false;
        }
        if new_holes {
            let us = &mut self.groups[g].usage[i];
            let from = us.lg_used;
            us.holes.add_holes_at_end(from, 1, desired);
        } else {
            self.issue344 = true;
        }
        self.groups[g].usage[i].lg_used = desired;
        true
    }

    fn try_expand_data(&mut self, scope: Scope, old_lg: u32, old_offset: u32, factor: u32) -> bool {
        match scope {
            Scope::Top => self.holes.try_expand(old_lg, old_offset, factor),
            Scope::Group(g) => {
                // Too large or misaligned: capnp 0.5 forgot to fail here; the official
                // compiler now refuses the schema if the expansion would otherwise succeed.
                let must_fail =
                    old_lg + factor > 6 || (old_offset & ((1u32 << factor.min(31)) - 1)) != 0;
                let u = self.groups[g].parent;
                for i in 0..self.groups[g].usage.len() {
                    let loc = self.unions[u].data_locations[i];
                    if loc.lg >= old_lg && (old_offset >> (loc.lg - old_lg)) == loc.offset {
                        let local = old_offset - (loc.offset << (loc.lg - old_lg));
                        let usage = self.groups[g].usage[i];
                        let result = if local == 0 && usage.lg_used == old_lg {
                            self.try_expand_usage(g, i, old_lg + factor, false)
                        } else {
                            self.groups[g].usage[i]
                                .holes
                                .try_expand(old_lg, local, factor)
                        };
                        if must_fail && result {
                            self.issue344 = true;
                        }
                        return result;
                    }
                }
                false
            }
        }
    }
}

fn smallest_hole_at_least(usage: &Usage, loc: DataLocation, lg: u32) -> Option<u32> {
    if !usage.used {
        (lg <= loc.lg).then_some(loc.lg)
    } else if lg >= usage.lg_used {
        (lg < loc.lg).then_some(lg)
    } else if let Some(h) = usage.holes.smallest_at_least(lg) {
        Some(h)
    } else {
        (usage.lg_used < loc.lg).then_some(usage.lg_used)
    }
}

fn allocate_from_hole(usage: &mut Usage, loc: DataLocation, lg: u32) -> u32 {
    let result;
    if !usage.used {
        result = 0;
        usage.used = true;
        usage.lg_used = lg;
    } else if lg >= usage.lg_used {
        usage.holes.add_holes_at_end(usage.lg_used, 1, lg);
        usage.lg_used = lg + 1;
        result = 1;
    } else if let Some(h) = usage.holes.try_allocate(lg) {
        result = h;
    } else {
        result = 1 << (usage.lg_used - lg);
        usage.holes.add_holes_at_end(lg, result + 1, usage.lg_used);
        usage.lg_used += 1;
    }
    (loc.offset << (loc.lg - lg)) + result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_holes() {
        let mut l = Layout::default();
        assert_eq!(l.add_data(Scope::Top, 5), 0); // u32 at bits 0..32
        assert_eq!(l.add_data(Scope::Top, 3), 4); // u8 at byte 4
        assert_eq!(l.add_data(Scope::Top, 4), 3); // u16 at 16-bit slot 3
        assert_eq!(l.add_data(Scope::Top, 6), 1); // new word
        assert_eq!(l.data_words, 2);
    }
}

//! (capability trait: filled in by the architecture step)

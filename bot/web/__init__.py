"""HTTP front ends: the public chat page/widget and the internal staff console."""

pub(crate) mod des;

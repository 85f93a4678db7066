mod support;
mod transport;

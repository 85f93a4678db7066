mod pipeline;
mod support;
mod transport;

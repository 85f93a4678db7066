mod pipeline;
mod support;
mod transport;
mod crash;

mod crash;
mod e2e;
mod pipeline;
mod support;
mod transport;

//! Where the inbound streams of a multiplexed connection go (go-plugin's `PLUGIN_MULTIPLEX_GRPC`):
//! the other side knocks on a brokered id before it opens a stream for it, so each inbound stream
//! belongs to the oldest acknowledged knock, and a stream nobody knocked for is the main server's.

use std::collections::{HashMap, VecDeque};

use tokio::sync::mpsc;

/// The brokered servers this side serves over the multiplexed connection, and the knocks
/// acknowledged but not yet followed by their stream. `T` is a stream (`BoxedIo`).
#[derive(Debug)]
pub(super) struct Routes<T> {
    servers: HashMap<u32, mpsc::UnboundedSender<T>>,
    knocked: VecDeque<u32>,
}

impl<T> Default for Routes<T> {
    fn default() -> Self {
        Routes {
            servers: HashMap::new(),
            knocked: VecDeque::new(),
        }
    }
}

/// What became of an inbound stream.
#[derive(Debug)]
pub(crate) enum Route<T> {
    /// No knock was waiting: the stream is for the main server, which gets it back.
    Main(T),
    /// Handed to the brokered server it was knocked for.
    Brokered,
    /// Knocked for a server that has stopped since: the stream is refused by dropping it.
    Refused,
}

impl<T> Routes<T> {
    /// Serves `id`: its streams go to `server`.
    pub(super) fn serve(&mut self, id: u32, server: mpsc::UnboundedSender<T>) {
        self.servers.insert(id, server);
    }

    /// Stops serving `id`.
    pub(super) fn forget(&mut self, id: u32) {
        self.servers.remove(&id);
    }

    /// The other side knocks on `id`, about to open a stream for it. Fails, with go-plugin's
    /// words, when this side serves no `id`.
    pub(super) fn knock(&mut self, id: u32) -> Result<(), String> {
        if !self.servers.contains_key(&id) {
            return Err(format!("no listener for id {id}"));
        }
        self.knocked.push_back(id);
        Ok(())
    }

    /// Routes the next inbound stream.
    pub(super) fn route(&mut self, stream: T) -> Route<T> {
        let Some(id) = self.knocked.pop_front() else {
            return Route::Main(stream);
        };
        match self.servers.get(&id) {
            Some(server) if server.send(stream).is_ok() => Route::Brokered,
            _ => Route::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_without_a_knock_goes_to_the_main_server() {
        let mut routes = Routes::default();
        assert!(matches!(routes.route("s"), Route::Main("s")));
    }

    #[test]
    fn streams_follow_the_knocks_in_order() {
        let mut routes = Routes::default();
        let (one, mut ones) = mpsc::unbounded_channel();
        let (two, mut twos) = mpsc::unbounded_channel();
        routes.serve(1, one);
        routes.serve(2, two);
        routes.knock(2).unwrap();
        routes.knock(1).unwrap();
        assert!(matches!(routes.route("a"), Route::Brokered));
        assert!(matches!(routes.route("b"), Route::Brokered));
        assert!(matches!(routes.route("c"), Route::Main("c")));
        assert_eq!(twos.try_recv(), Ok("a"));
        assert_eq!(ones.try_recv(), Ok("b"));
    }

    #[test]
    fn a_knock_on_an_id_not_served_fails_with_go_plugins_words() {
        let mut routes = Routes::<()>::default();
        assert_eq!(routes.knock(5), Err("no listener for id 5".to_owned()));
    }

    #[test]
    fn a_stream_knocked_for_a_server_that_stopped_is_refused() {
        let mut routes = Routes::default();
        let (server, stopped) = mpsc::unbounded_channel();
        routes.serve(3, server);
        routes.knock(3).unwrap();
        routes.forget(3);
        assert!(matches!(routes.route("s"), Route::Refused));

        let (server, stopped_too) = mpsc::unbounded_channel();
        routes.serve(4, server);
        routes.knock(4).unwrap();
        drop(stopped_too);
        assert!(matches!(routes.route("t"), Route::Refused));
        drop(stopped);
    }
}

//! `plugintest.Tester/Echo` as the benches call it: through the runtime ([`TesterClient`]) or
//! through plain tonic ([`crate::raw::RawClient`]), timed by the same code.

use tests::{Tester, TesterClient};

/// One way of calling `plugintest.Tester/Echo`. Clones share one connection, as clones of a
/// dispensed client do.
pub(crate) trait Echo: Clone + Send + Sync + 'static {
    /// Sends `data` and returns what came back.
    fn echo(&self, data: Vec<u8>) -> impl Future<Output = Result<Vec<u8>, String>> + Send;
}

/// Through the runtime: the generated client on the plugin's `Connection`.
impl Echo for TesterClient {
    async fn echo(&self, data: Vec<u8>) -> Result<Vec<u8>, String> {
        Tester::echo(self, data)
            .await
            .map_err(|err| err.to_string())
    }
}

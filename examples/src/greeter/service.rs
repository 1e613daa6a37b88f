//! The `tfplugin6.Provider` service as a Rust trait, and the greeter's implementation of it.
//!
//! Each method takes and returns a whole protocol message (`#[rpc(whole)]`); the gRPC method
//! names are the UpperCamelCase of the Rust names (`get_provider_schema` is
//! `/tfplugin6.Provider/GetProviderSchema`). Only the methods OpenTofu 1.12 calls for a provider
//! of managed resources and data sources are declared; the others answer `Unimplemented`.

use go_plugin::{PluginError, plugin_interface};

use super::provider;
use super::tfplugin6::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, ConfigureProviderRequest,
    ConfigureProviderResponse, GetProviderSchemaRequest, GetProviderSchemaResponse,
    GetResourceIdentitySchemasRequest, GetResourceIdentitySchemasResponse,
    ImportResourceStateRequest, ImportResourceStateResponse, PlanResourceChangeRequest,
    PlanResourceChangeResponse, ReadDataSourceRequest, ReadDataSourceResponse, ReadResourceRequest,
    ReadResourceResponse, StopProviderRequest, StopProviderResponse, UpgradeResourceStateRequest,
    UpgradeResourceStateResponse, ValidateDataResourceConfigRequest,
    ValidateDataResourceConfigResponse, ValidateProviderConfigRequest,
    ValidateProviderConfigResponse, ValidateResourceConfigRequest, ValidateResourceConfigResponse,
};

/// `tfplugin6.Provider`, the provider protocol version 6, as far as OpenTofu 1.12 uses it for
/// managed resources and data sources.
#[plugin_interface(package = "tfplugin6", service = "Provider")]
pub trait Provider {
    /// Every schema of the provider.
    #[rpc(whole)]
    async fn get_provider_schema(
        &self,
        request: GetProviderSchemaRequest,
    ) -> Result<GetProviderSchemaResponse, PluginError>;

    /// Identity schemas of the resource types (OpenTofu also tolerates `Unimplemented`).
    #[rpc(whole)]
    async fn get_resource_identity_schemas(
        &self,
        request: GetResourceIdentitySchemasRequest,
    ) -> Result<GetResourceIdentitySchemasResponse, PluginError>;

    /// Checks the provider block.
    #[rpc(whole)]
    async fn validate_provider_config(
        &self,
        request: ValidateProviderConfigRequest,
    ) -> Result<ValidateProviderConfigResponse, PluginError>;

    /// Checks a resource block.
    #[rpc(whole)]
    async fn validate_resource_config(
        &self,
        request: ValidateResourceConfigRequest,
    ) -> Result<ValidateResourceConfigResponse, PluginError>;

    /// Checks a data block.
    #[rpc(whole)]
    async fn validate_data_resource_config(
        &self,
        request: ValidateDataResourceConfigRequest,
    ) -> Result<ValidateDataResourceConfigResponse, PluginError>;

    /// Configures the provider before any plan, apply or read.
    #[rpc(whole)]
    async fn configure_provider(
        &self,
        request: ConfigureProviderRequest,
    ) -> Result<ConfigureProviderResponse, PluginError>;

    /// Brings a stored state to the current schema (on every command with state).
    #[rpc(whole)]
    async fn upgrade_resource_state(
        &self,
        request: UpgradeResourceStateRequest,
    ) -> Result<UpgradeResourceStateResponse, PluginError>;

    /// Refreshes a resource's state.
    #[rpc(whole)]
    async fn read_resource(
        &self,
        request: ReadResourceRequest,
    ) -> Result<ReadResourceResponse, PluginError>;

    /// Plans a create, update (or destroy, when the provider asks for it).
    #[rpc(whole)]
    async fn plan_resource_change(
        &self,
        request: PlanResourceChangeRequest,
    ) -> Result<PlanResourceChangeResponse, PluginError>;

    /// Applies a planned change.
    #[rpc(whole)]
    async fn apply_resource_change(
        &self,
        request: ApplyResourceChangeRequest,
    ) -> Result<ApplyResourceChangeResponse, PluginError>;

    /// `tofu import`: the state of an existing resource from its id.
    #[rpc(whole)]
    async fn import_resource_state(
        &self,
        request: ImportResourceStateRequest,
    ) -> Result<ImportResourceStateResponse, PluginError>;

    /// Reads a data source.
    #[rpc(whole)]
    async fn read_data_source(
        &self,
        request: ReadDataSourceRequest,
    ) -> Result<ReadDataSourceResponse, PluginError>;

    /// Cancels what is in flight (sent on interrupt).
    #[rpc(whole)]
    async fn stop_provider(
        &self,
        request: StopProviderRequest,
    ) -> Result<StopProviderResponse, PluginError>;
}

/// The greeter provider: stateless, everything it knows is in the state OpenTofu keeps.
#[derive(Debug, Default, Clone, Copy)]
pub struct Greeter;

impl Provider for Greeter {
    async fn get_provider_schema(
        &self,
        _request: GetProviderSchemaRequest,
    ) -> Result<GetProviderSchemaResponse, PluginError> {
        Ok(provider::provider_schema())
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: GetResourceIdentitySchemasRequest,
    ) -> Result<GetResourceIdentitySchemasResponse, PluginError> {
        Ok(provider::resource_identity_schemas())
    }

    async fn validate_provider_config(
        &self,
        request: ValidateProviderConfigRequest,
    ) -> Result<ValidateProviderConfigResponse, PluginError> {
        Ok(provider::validate_provider_config(&request))
    }

    async fn validate_resource_config(
        &self,
        request: ValidateResourceConfigRequest,
    ) -> Result<ValidateResourceConfigResponse, PluginError> {
        Ok(provider::validate_resource_config(&request))
    }

    async fn validate_data_resource_config(
        &self,
        request: ValidateDataResourceConfigRequest,
    ) -> Result<ValidateDataResourceConfigResponse, PluginError> {
        Ok(provider::validate_data_resource_config(&request))
    }

    async fn configure_provider(
        &self,
        request: ConfigureProviderRequest,
    ) -> Result<ConfigureProviderResponse, PluginError> {
        Ok(provider::configure_provider(&request))
    }

    async fn upgrade_resource_state(
        &self,
        request: UpgradeResourceStateRequest,
    ) -> Result<UpgradeResourceStateResponse, PluginError> {
        Ok(provider::upgrade_resource_state(&request))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequest,
    ) -> Result<ReadResourceResponse, PluginError> {
        Ok(provider::read_resource(&request))
    }

    async fn plan_resource_change(
        &self,
        request: PlanResourceChangeRequest,
    ) -> Result<PlanResourceChangeResponse, PluginError> {
        Ok(provider::plan_resource_change(&request))
    }

    async fn apply_resource_change(
        &self,
        request: ApplyResourceChangeRequest,
    ) -> Result<ApplyResourceChangeResponse, PluginError> {
        Ok(provider::apply_resource_change(&request))
    }

    async fn import_resource_state(
        &self,
        request: ImportResourceStateRequest,
    ) -> Result<ImportResourceStateResponse, PluginError> {
        Ok(provider::import_resource_state(&request))
    }

    async fn read_data_source(
        &self,
        request: ReadDataSourceRequest,
    ) -> Result<ReadDataSourceResponse, PluginError> {
        Ok(provider::read_data_source(&request))
    }

    async fn stop_provider(
        &self,
        _request: StopProviderRequest,
    ) -> Result<StopProviderResponse, PluginError> {
        // Every call finishes in microseconds: there is nothing in flight to cancel.
        tracing::info!("stop requested");
        Ok(StopProviderResponse::default())
    }
}

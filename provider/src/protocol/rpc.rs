//! The gRPC face of [`ProviderService`]: the generated `tfplugin6.Provider` trait, each RPC
//! a thin adapter from protobuf request to the `Inner` method in `service.rs` and back.
//! Everything is answered with diagnostics, never with a gRPC error status.

use tonic::{Request, Response, Status};

use super::diagnostics::{path_to_proto, to_proto as diags_to_proto};
use super::proto::tfplugin6 as pb;
use super::schema::to_proto as schema_to_proto;
use super::service::ProviderService;
use crate::framework::{Diagnostics, Provider};

fn merged(result: Result<Diagnostics, Diagnostics>) -> Vec<pb::Diagnostic> {
    diags_to_proto(&result.unwrap_or_else(|d| d))
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let inner = &self.inner;
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(&inner.provider_schema)),
            resource_schemas: inner
                .resources
                .iter()
                .map(|(n, r)| (n.clone(), schema_to_proto(&r.schema)))
                .collect(),
            data_source_schemas: inner
                .data_sources
                .iter()
                .map(|(n, d)| (n.clone(), schema_to_proto(&d.schema)))
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
        }))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = request.into_inner();
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: merged(self.inner.validate_provider(&req.config)),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let diags = self.inner.validate_resource(&req.type_name, &req.config);
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: merged(diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        let diags = self.inner.validate_data_source(&req.type_name, &req.config);
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: merged(diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let (upgraded_state, diagnostics) = match self.inner.upgrade(&req) {
            Ok(state) => (Some(state), Vec::new()),
            Err(d) => (None, diags_to_proto(&d)),
        };
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics,
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(terraform_version = %req.terraform_version, "configuring the provider");
        let diagnostics = match self.inner.configure(&req.config).await {
            Ok(()) => Vec::new(),
            Err(d) => diags_to_proto(&d),
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics,
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        let (new_state, diags) = self.inner.read_resource(&req).await;
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: diags_to_proto(&diags),
            private: req.private,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let response = match self.inner.plan_resource(&req).await {
            Ok((planned, replace)) => pb::plan_resource_change::Response {
                planned_state: Some(planned),
                requires_replace: replace.iter().map(path_to_proto).collect(),
                planned_private: req.prior_private,
                diagnostics: Vec::new(),
            },
            Err(d) => pb::plan_resource_change::Response {
                diagnostics: diags_to_proto(&d),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        let (new_state, diags) = self.inner.apply_resource(&req).await;
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private: req.planned_private,
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let response = match self.inner.import(&req).await {
            Ok(state) => pb::import_resource_state::Response {
                imported_resources: vec![pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: Some(state),
                    private: Vec::new(),
                }],
                diagnostics: Vec::new(),
            },
            Err(d) => pb::import_resource_state::Response {
                imported_resources: Vec::new(),
                diagnostics: diags_to_proto(&d),
            },
        };
        Ok(Response::new(response))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        let response = match self.inner.read_data_source(&req).await {
            Ok(state) => pb::read_data_source::Response {
                state: Some(state),
                diagnostics: Vec::new(),
            },
            Err(d) => pb::read_data_source::Response {
                state: None,
                diagnostics: diags_to_proto(&d),
            },
        };
        Ok(Response::new(response))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!("StopProvider: cancelling calls in flight");
        self.stop_in_flight();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

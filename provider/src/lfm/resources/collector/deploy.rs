//! The AWS calls of `lfm_collector`: execution role, log group, function, EventBridge rule
//! and target, and the invoke permission; reading them all back. "Not found" is part of the
//! answer: reads return `None`, deletes succeed.

use super::model::{self, Names, PERMISSION_SID, TARGET_ID};
use super::policy::{self, POLICY_NAME};
use super::state::{self, Facts, FunctionFacts};
use super::package;
use crate::lfm::aws::iam::url_decode;
use crate::lfm::aws::retry::{retry, RetryPolicy};
use crate::lfm::aws::{Aws, AwsError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

const DESCRIPTION: &str =
    "LFM collector (Lambda Fleet Monitor). Managed by Terraform (lfm_collector).";

/// What a create or update writes.
pub struct Desired<'a> {
    pub names: Names,
    pub package: Option<Vec<u8>>,
    pub architecture: &'a str,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub environment: BTreeMap<String, String>,
    pub policy: String,
    pub schedule: &'a str,
    pub enabled: bool,
    pub log_retention_days: i32,
    pub role_propagation: Duration,
}

/// Lambda's answer while a role created moments ago is not yet assumable (IAM propagation).
pub fn is_role_propagation_error(e: &AwsError) -> bool {
    e.is("InvalidParameterValueException") && e.message.contains("cannot be assumed by Lambda")
}

fn propagation_policy(max_elapsed: Duration) -> RetryPolicy {
    RetryPolicy {
        first_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(8),
        max_elapsed,
    }
}

fn gone<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is("ResourceNotFoundException") || e.is("NoSuchEntity") => Ok(None),
        Err(e) => Err(e),
    }
}

/// A failed step: which one, and AWS's answer.
#[derive(Debug)]
pub struct StepError {
    pub step: &'static str,
    pub error: AwsError,
}

trait Step<T> {
    fn at(self, step: &'static str) -> Result<T, StepError>;
}

impl<T> Step<T> for Result<T, AwsError> {
    fn at(self, step: &'static str) -> Result<T, StepError> {
        self.map_err(|error| StepError { step, error })
    }
}

/// Create or converge the execution role: trust policy for Lambda, the inline policy.
async fn ensure_role(aws: &Aws, d: &Desired<'_>) -> Result<String, StepError> {
    let iam = aws.iam();
    let trust = policy::trust_policy();
    let created = iam
        .create_role()
        .role_name(&d.names.role)
        .assume_role_policy_document(&trust)
        .description(DESCRIPTION)
        .send()
        .await
        .map_err(AwsError::from_sdk);
    let fresh = created.is_ok();
    let arn = match created {
        Ok(out) => out.role().map(|r| r.arn().to_owned()).unwrap_or_default(),
        Err(e) if e.is("EntityAlreadyExists") => {
            // Ours from an earlier apply (its function deleted outside Terraform): take it
            // back. Anyone else's role of that name is left alone.
            let role = iam
                .get_role()
                .role_name(&d.names.role)
                .send()
                .await
                .map_err(AwsError::from_sdk)
                .at("read the execution role")?;
            let role = role.role().cloned();
            if role.as_ref().and_then(|r| r.description()) != Some(DESCRIPTION) {
                return Err(StepError {
                    step: "create the execution role",
                    error: AwsError {
                        code: Some("EntityAlreadyExists".into()),
                        message: format!(
                            "Role with name {} already exists and was not made by lfm_collector",
                            d.names.role
                        ),
                    },
                });
            }
            iam.update_assume_role_policy()
                .role_name(&d.names.role)
                .policy_document(&trust)
                .send()
                .await
                .map_err(AwsError::from_sdk)
                .at("update the execution role's trust policy")?;
            role.map(|r| r.arn().to_owned()).unwrap_or_default()
        }
        Err(e) => {
            return Err(StepError {
                step: "create the execution role",
                error: e,
            })
        }
    };
    retry(
        propagation_policy(d.role_propagation),
        |e| e.is("NoSuchEntity"),
        || async {
            iam.put_role_policy()
                .role_name(&d.names.role)
                .policy_name(POLICY_NAME)
                .policy_document(&d.policy)
                .send()
                .await
                .map(drop)
                .map_err(AwsError::from_sdk)
        },
    )
    .await
    .at("put the execution role's policy")?;
    if !fresh {
        // A role of ours from before: policies added outside Terraform are drift.
        crate::lfm::aws::iam::remove_extra_policies(&iam, &d.names.role, POLICY_NAME)
            .await
            .at("remove the policies added outside Terraform from the execution role")?;
    }
    Ok(arn)
}

async fn ensure_log_group(aws: &Aws, d: &Desired<'_>) -> Result<(), StepError> {
    let logs = aws.logs();
    match logs
        .create_log_group()
        .log_group_name(&d.names.log_group)
        .send()
        .await
        .map_err(AwsError::from_sdk)
    {
        Ok(_) => {}
        Err(e) if e.is("ResourceAlreadyExistsException") => {}
        Err(e) => {
            return Err(StepError {
                step: "create the log group",
                error: e,
            })
        }
    }
    logs.put_retention_policy()
        .log_group_name(&d.names.log_group)
        .retention_in_days(d.log_retention_days)
        .send()
        .await
        .map(drop)
        .map_err(AwsError::from_sdk)
        .at("set the log group's retention")
}

fn environment(d: &Desired<'_>) -> Environment {
    let vars: HashMap<String, String> = d.environment.clone().into_iter().collect();
    Environment::builder().set_variables(Some(vars)).build()
}

/// Wait until no update of the function is in progress (Lambda rejects the next one with
/// ResourceConflictException meanwhile).
async fn wait_updated(aws: &Aws, name: &str, timeout: Duration) -> Result<(), AwsError> {
    let start = std::time::Instant::now();
    loop {
        let out = aws
            .lambda()
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(AwsError::from_sdk)?;
        let busy = matches!(out.last_update_status(), Some(LastUpdateStatus::InProgress))
            || matches!(out.state(), Some(aws_sdk_lambda::types::State::Pending));
        if !busy || start.elapsed() > timeout {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Create the function, or converge an existing one (`creating`: an existing function is an
/// error, since it is not ours until imported). Returns the function ARN.
async fn ensure_function(
    aws: &Aws,
    d: &Desired<'_>,
    role_arn: &str,
    creating: bool,
) -> Result<String, StepError> {
    let lambda = aws.lambda();
    let existing = gone(
        lambda
            .get_function()
            .function_name(&d.names.function)
            .send()
            .await
            .map_err(AwsError::from_sdk),
    )
    .at("read the function")?;
    let arch = Architecture::from(d.architecture);
    let Some(existing) = existing else {
        let package = d.package.clone().ok_or_else(|| StepError {
            step: "create the function",
            error: AwsError {
                code: None,
                message: "the package is not known (package_path)".into(),
            },
        })?;
        let out = retry(
            propagation_policy(d.role_propagation),
            is_role_propagation_error,
            || async {
                lambda
                    .create_function()
                    .function_name(&d.names.function)
                    .runtime(Runtime::Providedal2023)
                    .handler("bootstrap")
                    .role(role_arn)
                    .code(
                        FunctionCode::builder()
                            .zip_file(Blob::new(package.clone()))
                            .build(),
                    )
                    .architectures(arch.clone())
                    .memory_size(d.memory_mb)
                    .timeout(d.timeout_s)
                    .environment(environment(d))
                    .description(DESCRIPTION)
                    .send()
                    .await
                    .map_err(AwsError::from_sdk)
            },
        )
        .await
        .at("create the function")?;
        return Ok(out.function_arn().unwrap_or_default().to_owned());
    };
    if creating {
        return Err(StepError {
            step: "create the function",
            error: AwsError {
                code: Some("ResourceConflictException".into()),
                message: format!("Function already exist: {}", d.names.function),
            },
        });
    }
    let config = existing
        .configuration()
        .cloned()
        .unwrap_or_else(|| aws_sdk_lambda::types::FunctionConfiguration::builder().build());
    let same_arch = config.architectures().first().map(|a| a.as_str()) == Some(d.architecture);
    let code_sha = config.code_sha256().unwrap_or_default().to_owned();
    let wait = d.role_propagation.max(Duration::from_secs(60));
    if let Some(package) = &d.package {
        if code_sha != package::package_sha256(package) || !same_arch {
            wait_updated(aws, &d.names.function, wait)
                .await
                .at("wait for the function")?;
            lambda
                .update_function_code()
                .function_name(&d.names.function)
                .zip_file(Blob::new(package.clone()))
                .architectures(arch.clone())
                .send()
                .await
                .map_err(AwsError::from_sdk)
                .at("update the function's code")?;
        }
    }
    wait_updated(aws, &d.names.function, wait)
        .await
        .at("wait for the function")?;
    let out = retry(
        propagation_policy(d.role_propagation),
        is_role_propagation_error,
        || async {
            lambda
                .update_function_configuration()
                .function_name(&d.names.function)
                .role(role_arn)
                .runtime(Runtime::Providedal2023)
                .handler("bootstrap")
                .memory_size(d.memory_mb)
                .timeout(d.timeout_s)
                .environment(environment(d))
                .description(DESCRIPTION)
                .send()
                .await
                .map_err(AwsError::from_sdk)
        },
    )
    .await
    .at("update the function's configuration")?;
    Ok(out.function_arn().unwrap_or_default().to_owned())
}

/// The rule, its one target (the function) and the function's permission for the rule.
async fn ensure_schedule(
    aws: &Aws,
    d: &Desired<'_>,
    function_arn: &str,
) -> Result<String, StepError> {
    use aws_sdk_eventbridge::types::{RuleState, Target};
    let events = aws.events();
    let state = if d.enabled {
        RuleState::Enabled
    } else {
        RuleState::Disabled
    };
    let rule = events
        .put_rule()
        .name(&d.names.rule)
        .schedule_expression(d.schedule)
        .state(state)
        .description(format!(
            "Runs the LFM collector {} on its schedule. Managed by Terraform (lfm_collector).",
            d.names.function
        ))
        .send()
        .await
        .map_err(AwsError::from_sdk)
        .at("put the EventBridge rule")?;
    let rule_arn = rule.rule_arn().unwrap_or_default().to_owned();
    let target = Target::builder()
        .id(TARGET_ID)
        .arn(function_arn)
        .build()
        .expect("id and arn set");
    let put = events
        .put_targets()
        .rule(&d.names.rule)
        .targets(target)
        .send()
        .await
        .map_err(AwsError::from_sdk)
        .at("put the rule's target")?;
    if put.failed_entry_count() > 0 {
        let why = put
            .failed_entries()
            .first()
            .and_then(|f| f.error_message())
            .unwrap_or("no reason given")
            .to_owned();
        return Err(StepError {
            step: "put the rule's target",
            error: AwsError {
                code: None,
                message: why,
            },
        });
    }
    let lambda = aws.lambda();
    let policy = gone(
        lambda
            .get_policy()
            .function_name(&d.names.function)
            .send()
            .await
            .map_err(AwsError::from_sdk),
    )
    .at("read the function's policy")?;
    let current = policy
        .as_ref()
        .and_then(|p| p.policy())
        .and_then(|p| state::permission_source_arn(p, PERMISSION_SID));
    if current.as_deref() != Some(rule_arn.as_str()) {
        if policy
            .as_ref()
            .and_then(|p| p.policy())
            .is_some_and(|p| p.contains(PERMISSION_SID))
        {
            gone(
                lambda
                    .remove_permission()
                    .function_name(&d.names.function)
                    .statement_id(PERMISSION_SID)
                    .send()
                    .await
                    .map(drop)
                    .map_err(AwsError::from_sdk),
            )
            .at("remove the outdated invoke permission")?;
        }
        lambda
            .add_permission()
            .function_name(&d.names.function)
            .statement_id(PERMISSION_SID)
            .action("lambda:InvokeFunction")
            .principal("events.amazonaws.com")
            .source_arn(&rule_arn)
            .send()
            .await
            .map_err(AwsError::from_sdk)
            .at("allow the rule to invoke the function")?;
    }
    Ok(rule_arn)
}

/// Create (`creating`) or converge everything; idempotent, so an update also repairs parts
/// deleted outside Terraform.
pub async fn apply(aws: &Aws, d: &Desired<'_>, creating: bool) -> Result<(), StepError> {
    let role_arn = ensure_role(aws, d).await?;
    ensure_log_group(aws, d).await?;
    let function_arn = ensure_function(aws, d, &role_arn, creating).await?;
    ensure_schedule(aws, d, &function_arn).await?;
    Ok(())
}

/// Read everything back; `None` when the function is gone.
pub async fn read(aws: &Aws, names: &Names) -> Result<Option<Facts>, StepError> {
    let lambda = aws.lambda();
    let Some(function) = gone(
        lambda
            .get_function()
            .function_name(&names.function)
            .send()
            .await
            .map_err(AwsError::from_sdk),
    )
    .at("read the function")?
    else {
        return Ok(None);
    };
    let c = function
        .configuration()
        .cloned()
        .unwrap_or_else(|| aws_sdk_lambda::types::FunctionConfiguration::builder().build());
    let function = FunctionFacts {
        function_arn: c.function_arn().unwrap_or_default().to_owned(),
        role_arn: c.role().unwrap_or_default().to_owned(),
        architecture: c
            .architectures()
            .first()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_else(|| "x86_64".into()),
        memory_mb: c.memory_size().unwrap_or_default().into(),
        timeout_s: c.timeout().unwrap_or_default().into(),
        code_sha256: c.code_sha256().unwrap_or_default().to_owned(),
        last_modified: c.last_modified().unwrap_or_default().to_owned(),
        environment: c
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.clone().into_iter().collect())
            .unwrap_or_default(),
    };
    let policy = gone(
        aws.iam()
            .get_role_policy()
            .role_name(&names.role)
            .policy_name(POLICY_NAME)
            .send()
            .await
            .map_err(AwsError::from_sdk),
    )
    .at("read the execution role's policy")?
    .map(|p| url_decode(p.policy_document()));
    let extra_policies = gone(crate::lfm::aws::iam::extra_policies(&aws.iam(), &names.role, POLICY_NAME).await)
        .at("list the execution role's policies")?
        .unwrap_or_default();
    let events = aws.events();
    let rule = gone(
        events
            .describe_rule()
            .name(&names.rule)
            .send()
            .await
            .map_err(AwsError::from_sdk),
    )
    .at("read the EventBridge rule")?
    .map(|r| {
        let enabled = matches!(
            r.state(),
            Some(aws_sdk_eventbridge::types::RuleState::Enabled)
        );
        (
            r.arn().unwrap_or_default().to_owned(),
            r.schedule_expression().unwrap_or_default().to_owned(),
            enabled,
        )
    });
    let target_arn = match rule {
        Some(_) => gone(
            events
                .list_targets_by_rule()
                .rule(&names.rule)
                .send()
                .await
                .map_err(AwsError::from_sdk),
        )
        .at("read the rule's targets")?
        .and_then(|t| {
            t.targets()
                .iter()
                .find(|t| t.id() == TARGET_ID)
                .map(|t| t.arn().to_owned())
        }),
        None => None,
    };
    let permission_source_arn = gone(
        lambda
            .get_policy()
            .function_name(&names.function)
            .send()
            .await
            .map_err(AwsError::from_sdk),
    )
    .at("read the function's policy")?
    .and_then(|p| {
        p.policy()
            .and_then(|p| state::permission_source_arn(p, PERMISSION_SID))
    });
    let groups = aws
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(&names.log_group)
        .send()
        .await
        .map_err(AwsError::from_sdk)
        .at("read the log group")?;
    let log_group = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(names.log_group.as_str()))
        .map(|g| {
            (
                names.log_group.clone(),
                g.retention_in_days().map(i64::from),
            )
        });
    Ok(Some(Facts {
        function,
        policy,
        extra_policies,
        rule,
        target_arn,
        permission_source_arn,
        log_group,
    }))
}

/// Delete everything; parts already gone are skipped.
pub async fn delete(aws: &Aws, names: &Names) -> Result<(), StepError> {
    let events = aws.events();
    gone(
        events
            .remove_targets()
            .rule(&names.rule)
            .ids(TARGET_ID)
            .send()
            .await
            .map(drop)
            .map_err(AwsError::from_sdk),
    )
    .at("remove the rule's target")?;
    gone(
        events
            .delete_rule()
            .name(&names.rule)
            .send()
            .await
            .map(drop)
            .map_err(AwsError::from_sdk),
    )
    .at("delete the EventBridge rule")?;
    gone(
        aws.lambda()
            .delete_function()
            .function_name(&names.function)
            .send()
            .await
            .map(drop)
            .map_err(AwsError::from_sdk),
    )
    .at("delete the function")?;
    gone(
        aws.logs()
            .delete_log_group()
            .log_group_name(&names.log_group)
            .send()
            .await
            .map(drop)
            .map_err(AwsError::from_sdk),
    )
    .at("delete the log group")?;
    crate::lfm::aws::iam::delete_role(&aws.iam(), &names.role)
        .await
        .at("delete the execution role")
}

/// The provider's partition, account and region.
pub async fn home(aws: &Aws) -> Result<model::Home, AwsError> {
    let id = aws
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(AwsError::from_sdk)?;
    let arn = id.arn().unwrap_or_default();
    Ok(model::Home {
        partition: arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_owned(),
        account_id: id.account().unwrap_or_default().to_owned(),
        region: aws.region().to_owned(),
    })
}

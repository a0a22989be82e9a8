"""Queries for accounts and sessions."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from painpath.auth.models import User, UserSession
from painpath.care.models import Clinician, Patient


def user_by_email(db: Session, email: str) -> User | None:
    return db.scalars(select(User).where(User.email == email)).one_or_none()


def user_by_id(db: Session, user_id: uuid.UUID) -> User | None:
    return db.get(User, user_id)


def session_by_token_hash(db: Session, token_hash: str) -> UserSession | None:
    return db.scalars(select(UserSession).where(UserSession.token_hash == token_hash)).one_or_none()


def patient_id_for_user(db: Session, user_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalars(select(Patient.id).where(Patient.user_id == user_id)).one_or_none()


def clinician_id_for_user(db: Session, user_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalars(select(Clinician.id).where(Clinician.user_id == user_id)).one_or_none()
